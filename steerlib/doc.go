// Package steerlib runs the method of Stolfo et al. (ICLR 2025), "Improving
// Instruction-Following in Language Models through Activation Steering", in
// a few calls:
//
//	m, _ := steerlib.Open("")                     // model + tokenizer + chat template ("" = embedded tinyif)
//	ps, _ := steerlib.Pairs(id, requests...)      // the same requests with and without instruction id
//	set, _ := m.Directions(ctx, ps)               // u_l = v_l/‖v_l‖, v_l = mean(h⁺ − h⁻) after every block l
//	op, _ := set.Clamp(l)                         // x ← x + (z̄ − x·u)·u after block l
//	out, _ := m.Generate(prompts, steerlib.GenerateOptions{Steer: []model.SteerOp{op}})
//	ok, _ := steerlib.Follows(id, kwargs, prompt, out[0].Text)   // IFEval, loose
//
// h⁺ and h⁻ are the residual streams at the last prompt token of the
// chat-templated prompts with (p⁺) and without (p⁻) the instruction, and z̄
// is the mean projection h⁺·u (see steerlib/vectors for the operators add,
// clamp and ablate).
//
// Each step is a stage of the data flow with its own package, which the
// facade only wires together: chat (prompt → text → ids, one Encoder for
// every tool), model (the transformer with capture and steering slots),
// pairs, vectors (directions), ifeval (scores). Use those packages directly
// for anything the facade leaves out (PCA directions, resumable extraction,
// batched scoring tables).
package steerlib
