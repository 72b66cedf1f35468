; IR in the pre-LLVM-11 spelling: `byval` without its type (as in the published rodinia lavaMD file).
%struct.pair = type { i32, i32 }

define i32 @first(%struct.pair* byval nocapture readonly align 4 %p) {
  %a = getelementptr inbounds %struct.pair, %struct.pair* %p, i64 0, i32 0
  %v = load i32, i32* %a, align 4
  ret i32 %v
}
