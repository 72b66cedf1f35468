; Hand-checked program graph input: tests/ir/GraphTest.cpp (GraphSmall) counts its nodes and edges by hand.
; Instruction node ids are given as I<n>; a loop makes the phi refer forward to %next.
declare i64 @_Z13get_global_idj(i32)

define float @square(float %x) {
entry:
  %m = fmul float %x, %x                           ; I1
  ret float %m                                     ; I2
}

define void @kernel(float* %out, i32 %n) {
entry:
  %id = call i64 @_Z13get_global_idj(i32 0)        ; I3
  %c = icmp sgt i32 %n, 0                          ; I4
  br i1 %c, label %loop, label %exit               ; I5
loop:
  %i = phi i32 [ 0, %entry ], [ %next, %loop ]     ; I6
  %p = getelementptr float, float* %out, i64 %id   ; I7
  %v = load float, float* %p                       ; I8
  %s = call float @square(float %v)                ; I9
  store float %s, float* %p                        ; I10
  %next = add i32 %i, 1                            ; I11
  %done = icmp eq i32 %next, %n                    ; I12
  br i1 %done, label %exit, label %loop            ; I13
exit:
  ret void                                         ; I14
}
