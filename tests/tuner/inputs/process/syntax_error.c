/* Does not compile: the build must fail and name this file and line. */
int main(void) {
  int x = ;
  return x;
}
