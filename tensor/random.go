package tensor

import "math/rand/v2"

// RandNormal returns a CPU tensor whose elements are drawn from N(mean, std²)
// by rng. Every source of randomness in the project is an explicit, seeded
// *rand.Rand, so that runs repeat.
func RandNormal(rng *rand.Rand, dt DType, mean, std float64, shape ...int) *Tensor {
	v := make([]float64, Shape(shape).Numel())
	for i := range v {
		v[i] = mean + std*rng.NormFloat64()
	}
	return FromValues(dt, v, shape...)
}

// RandUniform returns a CPU tensor whose elements are drawn uniformly from
// [lo, hi) by rng.
func RandUniform(rng *rand.Rand, dt DType, lo, hi float64, shape ...int) *Tensor {
	v := make([]float64, Shape(shape).Numel())
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return FromValues(dt, v, shape...)
}

// NewRand returns a PCG source seeded with seed, the project's one way to
// make a random generator.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }
