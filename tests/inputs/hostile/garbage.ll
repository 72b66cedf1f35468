define i32 @f( {
  this is not IR
}
