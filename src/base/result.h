#pragma once
// Result<T> is part of the public API; internal code includes it through this path too.
#include "herald/result.h"
