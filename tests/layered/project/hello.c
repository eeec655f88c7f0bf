#include <stdio.h>
int main(void) { puts("Hello from ndx!"); return 0; }
