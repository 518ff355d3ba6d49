#!/usr/bin/python3
"""CPU trainer for the embedded tinyif models (gosteer's own code; PyTorch >= 1.13).

The Go side makes everything but the weights (`go run ./steerlib/tinyif/cmd/tinyif prepare --data DATA`):
the tokenizer, config.json of both models, and the tokenized corpora DATA/base.jsonl (plain "Q: ...\\nA: ..."
text and prose) and DATA/instruct.jsonl (chat-template examples), one sequence per line as
{"ids": [...], "start": K}: the loss counts the targets at positions >= K (K = 0 for plain text).

This script trains a Llama-architecture model on those ids, exactly the forward pass of Hugging Face's
LlamaForCausalLM (RMSNorm, rotary embeddings with rotate-half, grouped-query attention, SwiGLU MLP, tied
embeddings), and writes model.safetensors (F32, Hugging Face tensor names) into DATA/<stage>/, next to the
config Go wrote. Stage "base" trains from scratch on base.jsonl; stage "instruct" starts from the base weights
and fine-tunes on instruct.jsonl. It also writes DATA/<stage>/trainer_logits.json: the logits of the
sequences in DATA/verify.jsonl, which `tinyif verify` compares with steerlib/model's.

Resumes after a kill: a checkpoint (weights + optimizer + step) is written every --save-every steps, and the
loss curve is appended to DATA/<stage>/loss.csv line by line. Final files are written under a temporary name
and renamed.

  nice -n 5 /usr/bin/python3 scripts/train_tinyif_torch.py --data DATA --stage base --steps 600
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_config(path):
    with open(path) as f:
        return json.load(f)


class Llama(torch.nn.Module):
    """LlamaForCausalLM's forward pass; parameter names are the Hugging Face ones."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        h, inter = cfg["hidden_size"], cfg["intermediate_size"]
        self.nh, self.nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg.get("head_dim") or h // self.nh
        self.eps = cfg["rms_norm_eps"]
        self.embed = torch.nn.Parameter(torch.empty(cfg["vocab_size"], h))
        self.layers = torch.nn.ModuleList()
        for _ in range(cfg["num_hidden_layers"]):
            blk = torch.nn.Module()
            blk.attn_norm = torch.nn.Parameter(torch.ones(h))
            blk.mlp_norm = torch.nn.Parameter(torch.ones(h))
            blk.q = torch.nn.Parameter(torch.empty(self.nh * self.hd, h))
            blk.k = torch.nn.Parameter(torch.empty(self.nkv * self.hd, h))
            blk.v = torch.nn.Parameter(torch.empty(self.nkv * self.hd, h))
            blk.o = torch.nn.Parameter(torch.empty(h, self.nh * self.hd))
            blk.gate = torch.nn.Parameter(torch.empty(inter, h))
            blk.up = torch.nn.Parameter(torch.empty(inter, h))
            blk.down = torch.nn.Parameter(torch.empty(h, inter))
            self.layers.append(blk)
        self.norm = torch.nn.Parameter(torch.ones(h))
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd))
        self.register_buffer("inv_freq", inv.float(), persistent=False)

    def init_weights(self, seed):
        """N(0, 0.02²) matrices, the residual outputs (o, down) scaled by 1/sqrt(2·layers) as in GPT-2."""
        g = torch.Generator().manual_seed(seed)
        scale = 0.02 / math.sqrt(2 * len(self.layers))
        with torch.no_grad():
            self.embed.normal_(0, 0.02, generator=g)
            for blk in self.layers:
                for w in (blk.q, blk.k, blk.v, blk.gate, blk.up):
                    w.normal_(0, 0.02, generator=g)
                for w in (blk.o, blk.down):
                    w.normal_(0, scale, generator=g)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rot * sin

    def forward(self, ids):
        B, T = ids.shape
        x = F.embedding(ids, self.embed)
        pos = torch.arange(T, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        causal = torch.full((T, T), float("-inf")).triu(1)
        rep = self.nh // self.nkv
        for blk in self.layers:
            a = self.rms(x, blk.attn_norm)
            q = F.linear(a, blk.q).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = F.linear(a, blk.k).view(B, T, self.nkv, self.hd).transpose(1, 2)
            v = F.linear(a, blk.v).view(B, T, self.nkv, self.hd).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            k = k[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
            v = v[:, :, None].expand(B, self.nkv, rep, T, self.hd).reshape(B, self.nh, T, self.hd)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + causal
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
            x = x + F.linear(y, blk.o)
            m = self.rms(x, blk.mlp_norm)
            x = x + F.linear(F.silu(F.linear(m, blk.gate)) * F.linear(m, blk.up), blk.down)
        return F.linear(self.rms(x, self.norm), self.embed)

    def hf_tensors(self):
        """The weights under their Hugging Face names; the head is tied to the embedding (tie_word_embeddings), so
        no lm_head.weight is written."""
        out = {"model.embed_tokens.weight": self.embed, "model.norm.weight": self.norm}
        names = {"attn_norm": "input_layernorm", "mlp_norm": "post_attention_layernorm", "q": "self_attn.q_proj",
                 "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj", "gate": "mlp.gate_proj",
                 "up": "mlp.up_proj", "down": "mlp.down_proj"}
        for i, blk in enumerate(self.layers):
            for short, hf in names.items():
                out[f"model.layers.{i}.{hf}.weight"] = getattr(blk, short)
        return out


def write_safetensors(path, tensors, meta):
    """Writes F32 tensors in the safetensors format (8-byte header length, JSON header, raw data)."""
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def batches(seqs, batch, seed, pad):
    """Endless batches: shuffle, cut groups of 8 batches, sort each group by length, yield padded batches."""
    rng = random.Random(seed)
    epoch = 0
    while True:
        order = list(range(len(seqs)))
        rng.shuffle(order)
        group = batch * 8
        for g in range(0, len(order) - group + 1, group):
            idx = sorted(order[g:g + group], key=lambda i: len(seqs[i]["ids"]))
            chunks = [idx[k:k + batch] for k in range(0, group, batch)]
            rng.shuffle(chunks)
            for c in chunks:
                T = max(len(seqs[i]["ids"]) for i in c) - 1
                ids = torch.full((len(c), T), pad, dtype=torch.long)
                tgt = torch.full((len(c), T), pad, dtype=torch.long)
                w = torch.zeros((len(c), T))
                for r, i in enumerate(c):
                    s = seqs[i]["ids"]
                    n = len(s) - 1
                    ids[r, :n] = torch.tensor(s[:-1])
                    tgt[r, :n] = torch.tensor(s[1:])
                    w[r, max(0, seqs[i]["start"] - 1):n] = 1
                yield ids, tgt, w
        epoch += 1


def lr_at(step, steps, warmup, peak):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def write_trainer_logits(model, data, outdir):
    """Logits of DATA/verify.jsonl's sequences, one at a time, for the Go-side check."""
    rows = read_jsonl(os.path.join(data, "verify.jsonl"))
    out = []
    with torch.no_grad():
        for r in rows:
            lg = model(torch.tensor([r["ids"]]))[0]
            out.append({"ids": r["ids"], "logits": [[float(x) for x in row] for row in lg.tolist()]})
    tmp = os.path.join(outdir, "trainer_logits.json.tmp")
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, os.path.join(outdir, "trainer_logits.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder written by `tinyif prepare`")
    ap.add_argument("--stage", required=True, choices=["base", "instruct"])
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--save-every", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    outdir = os.path.join(a.data, a.stage)
    cfg = load_config(os.path.join(outdir, "config.json"))
    model = Llama(cfg)
    model.init_weights(a.seed)
    if a.stage == "instruct":
        base = torch.load(os.path.join(a.data, "base", "final.pt"))
        model.load_state_dict(base)
        print(f"instruct: starting from the base weights in {a.data}/base", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=a.weight_decay)
    ckpt_path, loss_path = os.path.join(outdir, "checkpoint.pt"), os.path.join(outdir, "loss.csv")
    step, elapsed0 = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed0 = ck["step"], ck["elapsed"]
        print(f"{a.stage}: resuming at step {step}", flush=True)
        with open(loss_path) as f:  # drop the steps done after the checkpoint
            kept = [l for l in f if l.startswith("step") or int(l.split(",")[0]) <= step]
        with open(loss_path, "w") as f:
            f.writelines(kept)
    seqs = read_jsonl(os.path.join(a.data, a.stage + ".jsonl"))
    pad = cfg["pad_token_id"]
    gen = batches(seqs, a.batch, a.seed * 1000 + (1 if a.stage == "base" else 2), pad)
    for _ in range(step):  # replay the batch stream so a resumed run sees the same batches
        next(gen)
    params = sum(p.numel() for p in model.parameters())
    print(f"{a.stage}: {params} parameters, {len(seqs)} sequences, {a.steps} steps of {a.batch}", flush=True)
    if step == 0:
        with open(loss_path, "w") as f:
            f.write("step,loss,lr,elapsed_s\n")
    start, recent = time.time(), []
    while step < a.steps:
        ids, tgt, w = next(gen)
        lr = lr_at(step, a.steps, a.warmup, a.lr)
        for grp in opt.param_groups:
            grp["lr"] = lr
        logits = model(ids)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
        loss = (nll * w.reshape(-1)).sum() / w.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        lv = float(loss)
        if not math.isfinite(lv):
            sys.exit(f"{a.stage}: step {step}: loss is {lv}")
        recent = (recent + [lv])[-20:]
        el = elapsed0 + time.time() - start
        with open(loss_path, "a") as f:
            f.write(f"{step},{lv:.5f},{lr:.6g},{el:.1f}\n")
        if step % 10 == 0 or step == a.steps:
            rate = step / el if el > 0 else 0
            print(f"{a.stage}: step {step}/{a.steps} loss {lv:.4f} (last 20: {sum(recent)/len(recent):.4f}) "
                  f"{rate:.2f} steps/s, ETA {(a.steps-step)/max(rate,1e-9):.0f}s", flush=True)
        if step % a.save_every == 0 and step < a.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": el}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    model.eval()
    el = elapsed0 + time.time() - start
    final = sum(recent) / max(1, len(recent))
    meta = {"format": "pt", "tinyif_stage": a.stage, "tinyif_steps": str(a.steps), "tinyif_final_loss": f"{final:.4f}"}
    write_safetensors(os.path.join(outdir, "model.safetensors"), model.hf_tensors(), meta)
    torch.save(model.state_dict(), os.path.join(outdir, "final.pt.tmp"))
    os.replace(os.path.join(outdir, "final.pt.tmp"), os.path.join(outdir, "final.pt"))
    write_trainer_logits(model, a.data, outdir)
    record = {"command": "nice -n 5 /usr/bin/python3 scripts/train_tinyif_torch.py " + " ".join(sys.argv[1:]),
              "stage": a.stage, "steps": a.steps, "batch_size": a.batch, "learning_rate": a.lr, "warmup_steps": a.warmup,
              "weight_decay": a.weight_decay, "seed": a.seed, "params": params, "final_loss": round(final, 4),
              "seconds": round(el, 1), "trainer": f"scripts/train_tinyif_torch.py, torch {torch.__version__}, "
              f"{a.threads} threads", "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(os.path.join(outdir, "training_torch.json"), "w") as f:
        json.dump(record, f, indent=2)
    print(f"{a.stage}: done, {a.steps} steps in {el:.0f}s, final loss {final:.4f} -> {outdir}", flush=True)


if __name__ == "__main__":
    main()
