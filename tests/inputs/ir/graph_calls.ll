; Recursion, a call of a declaration, and a call of a defined function: tests/ir/GraphTest.cpp (GraphCalls).
declare void @ext(i32)

define i32 @fact(i32 %n) {
entry:
  %c = icmp sle i32 %n, 1                          ; I1
  br i1 %c, label %base, label %rec                ; I2
base:
  ret i32 1                                        ; I3
rec:
  %m = sub i32 %n, 1                               ; I4
  %r = call i32 @fact(i32 %m)                      ; I5
  %p = mul i32 %n, %r                              ; I6
  ret i32 %p                                       ; I7
}

define void @caller() {
entry:
  call void @ext(i32 3)                            ; I8
  %f = call i32 @fact(i32 5)                       ; I9
  ret void                                         ; I10
}
