/* The example program of the ndx-build end-to-end test: compiled by one derivation,
 * wrapped by another. GREETING comes from the build (the `greeting` argument). */
#include <stdio.h>

#ifndef GREETING
#define GREETING "Hello"
#endif

int main(int argc, char **argv) {
    printf("%s, %s!\n", GREETING, argc > 1 ? argv[1] : "ndx");
    return 0;
}
