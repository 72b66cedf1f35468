; ModuleID = 'npb-XX-scale_A.cl'
source_filename = "npb-XX-scale_A.cl"
target datalayout = "e-m:o-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-apple-macosx10.13.0"

; The NCC IR files' shape: an old x86 data layout, which the bitcode reader upgrades, and an intrinsic.
define spir_kernel void @scale(float* nocapture %0, float %1) local_unnamed_addr #0 {
  %3 = tail call i64 @_Z13get_global_idj(i32 0)
  %4 = getelementptr inbounds float, float* %0, i64 %3
  %5 = load float, float* %4, align 4
  %6 = tail call float @llvm.fmuladd.f32(float %5, float %1, float 1.000000e+00)
  store float %6, float* %4, align 4
  ret void
}

declare i64 @_Z13get_global_idj(i32) local_unnamed_addr

declare float @llvm.fmuladd.f32(float, float, float) #1

attributes #0 = { nounwind ssp uwtable }
attributes #1 = { nounwind readnone speculatable }
