package model

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosteer/gosteer/steerlib/backend"
)

// shapeConfigs are config.json excerpts of real checkpoints, for benchmarks
// with random weights (throughput does not depend on the weight values).
var shapeConfigs = map[string]string{
	"smollm2-135m": `{"architectures":["LlamaForCausalLM"],"vocab_size":49152,"hidden_size":576,"intermediate_size":1536,
		"num_hidden_layers":30,"num_attention_heads":9,"num_key_value_heads":3,"tie_word_embeddings":true,
		"max_position_embeddings":8192,"rope_theta":100000.0,"rms_norm_eps":1e-5,"eos_token_id":2}`,
	"qwen2.5-0.5b": `{"architectures":["Qwen2ForCausalLM"],"vocab_size":151936,"hidden_size":896,"intermediate_size":4864,
		"num_hidden_layers":24,"num_attention_heads":14,"num_key_value_heads":2,"tie_word_embeddings":true,
		"max_position_embeddings":32768,"rope_theta":1000000.0,"rms_norm_eps":1e-6,"eos_token_id":151643}`,
	"gemma-2-2b": `{"architectures":["Gemma2ForCausalLM"],"vocab_size":256000,"hidden_size":2304,"intermediate_size":9216,
		"num_hidden_layers":26,"num_attention_heads":8,"num_key_value_heads":4,"head_dim":256,"query_pre_attn_scalar":256,
		"sliding_window":4096,"final_logit_softcapping":30.0,"attn_logit_softcapping":50.0,"hidden_activation":"gelu_pytorch_tanh",
		"max_position_embeddings":8192,"rope_theta":10000.0,"rms_norm_eps":1e-6,"eos_token_id":1}`,
	"phi-3-mini": `{"architectures":["Phi3ForCausalLM"],"vocab_size":32064,"hidden_size":3072,"intermediate_size":8192,
		"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"max_position_embeddings":4096,
		"rope_theta":10000.0,"rms_norm_eps":1e-5,"pad_token_id":32000,"eos_token_id":32000,"tie_word_embeddings":false}`,
}

// ShapeNames lists the named model shapes ShapeConfig knows.
func ShapeNames() []string {
	var out []string
	for k := range shapeConfigs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ShapeConfig returns the architecture of a named real model
// ("smollm2-135m", "qwen2.5-0.5b", "gemma-2-2b", "phi-3-mini").
func ShapeConfig(name string) (*Config, error) {
	js, ok := shapeConfigs[name]
	if !ok {
		return nil, fmt.Errorf("unknown shape %q (known: %s)", name, strings.Join(ShapeNames(), ", "))
	}
	return ParseConfig([]byte(js))
}

// NewRandom builds a model of architecture cfg with random weights (uniform
// ±0.04 matrices, unit norms, zero biases), for benchmarks and tests. Only
// WithDType, WithBackend and WithMemoryLimit options apply.
func NewRandom(cfg *Config, seed uint64, opts ...Option) (m *Model, err error) {
	defer recoverTo(&err, "random model")
	o := options{dtype: dtypes.Float32}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkWeightsFit(cfg, o); err != nil {
		return nil, err
	}
	b, err := backend.Shared(o.backendName)
	if err != nil {
		return nil, err
	}
	shapes := WeightShapes(cfg)
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	weights := make(map[string]*tensors.Tensor, len(names))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	work := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name, shape := names[i], shapes[names[i]]
				n := 1
				for _, d := range shape {
					n *= d
				}
				vals := make([]float32, n)
				switch {
				case len(shape) == 1 && isNormWeight(name):
					if !cfg.GemmaNorms {
						for j := range vals {
							vals[j] = 1
						}
					}
				case len(shape) == 1: // biases stay zero
				default:
					s := seed*0x9E3779B97F4A7C15 + uint64(i+1)*0xBF58476D1CE4E5B9
					for j := range vals {
						s ^= s << 13
						s ^= s >> 7
						s ^= s << 17
						vals[j] = (float32(s>>40)/float32(1<<24) - 0.5) * 0.08
					}
				}
				t, err := deviceTensor(b, vals, storedShape(shape), o.dtype)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("weight %s: %w", name, err)
				}
				weights[name] = t
				mu.Unlock()
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	m = newModel(cfg, "", b, o.dtype, weights)
	m.memLimit = o.memLimit
	return m, nil
}

func isNormWeight(name string) bool {
	return name == WNorm || strings.HasSuffix(name, "norm")
}
