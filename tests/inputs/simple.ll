define spir_kernel void @scale(float addrspace(1)* %data, float %factor) {
entry:
  %value = load float, float addrspace(1)* %data, align 4
  %scaled = fmul float %value, %factor
  store float %scaled, float addrspace(1)* %data, align 4
  ret void
}
