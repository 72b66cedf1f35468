; Two instructions for the IR2Vec symbolic vector test: an add of an argument and a constant, and its return.
define i32 @inc(i32 %a) {
entry:
  %b = add i32 %a, 1
  ret i32 %b
}

declare i32 @unused(i32)
