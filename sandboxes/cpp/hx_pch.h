// Precompiled header: exactly the includes the harness adds to every C++ program
// (humaneval_x/assembly.py CPP_INCLUDES), so using it changes no program's meaning.
#include <stdlib.h>
#include <algorithm>
#include <math.h>
#include <stdio.h>
#include <vector>
#include <string>
#include <climits>
#include <cstring>
#include <iostream>
