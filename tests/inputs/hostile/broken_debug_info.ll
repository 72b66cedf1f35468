; A module with debug info whose code breaks dominance: LLVM's IR reader verifies such modules itself and
; calls report_fatal_error ("Broken module found"), which would end mirtune (regression input: it must become
; this file's error).
define i32 @f(i1 %c) {
entry:
  br i1 %c, label %a, label %b
a:
  %x = add i32 1, 2
  br label %b
b:
  ret i32 %x
}

!llvm.module.flags = !{!0}
!0 = !{i32 2, !"Debug Info Version", i32 3}
