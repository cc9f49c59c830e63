// Memory access shared by the kernels: the address of element `index` of a float32 array at
// `base`, and float32 loads/stores widened to and rounded from float64 (the reference arithmetic).

@inline export function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

@inline export function ld(base: usize, index: i32): f64 {
  return <f64>load<f32>(at(base, index));
}

@inline export function st(base: usize, index: i32, v: f64): void {
  store<f32>(at(base, index), <f32>v);
}
