package langdetect

import "math"

// pyRandom is a Mersenne Twister (MT19937) generator that reproduces the
// draws of CPython's random.Random for the three calls langdetect makes:
// seed(int), gauss(0, 1) and choice(seq). Reproducing them lets a seeded Go
// run give the same answer as `DetectorFactory.seed = N` in Python.
type pyRandom struct {
	mt        [624]uint32
	idx       int
	gaussNext float64
	hasGauss  bool
}

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

// seed mirrors random.seed(n) for a non-negative integer n below 2^64.
func (r *pyRandom) seed(n uint64) {
	var key []uint32
	if n == 0 {
		key = []uint32{0}
	}
	for n > 0 {
		key = append(key, uint32(n))
		n >>= 32
	}
	r.initGenrand(19650218)
	i, j := 1, 0
	k := 624
	if len(key) > k {
		k = len(key)
	}
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
	r.idx = 624
	r.hasGauss = false
}

func (r *pyRandom) uint32() uint32 {
	if r.idx >= 624 {
		for k := 0; k < 624; k++ {
			y := (r.mt[k] & 0x80000000) | (r.mt[(k+1)%624] & 0x7fffffff)
			v := r.mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// random mirrors random.random(): a 53-bit float in [0, 1).
func (r *pyRandom) random() float64 {
	a := r.uint32() >> 5
	b := r.uint32() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// gauss mirrors random.gauss(0, 1), which caches the second value of each
// Box-Muller pair.
func (r *pyRandom) gauss() float64 {
	if r.hasGauss {
		r.hasGauss = false
		return r.gaussNext
	}
	x2pi := r.random() * 2 * math.Pi
	g2rad := math.Sqrt(-2.0 * math.Log(1.0-r.random()))
	r.gaussNext = math.Sin(x2pi) * g2rad
	r.hasGauss = true
	return math.Cos(x2pi) * g2rad
}

// below mirrors random._randbelow(n) (rejection sampling on getrandbits) for
// 0 < n < 2^32.
func (r *pyRandom) below(n int) int {
	k := 0
	for v := n; v > 0; v >>= 1 {
		k++
	}
	for {
		v := int(r.uint32() >> (32 - uint(k)))
		if v < n {
			return v
		}
	}
}
