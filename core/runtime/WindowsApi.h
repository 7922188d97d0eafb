#pragma once

// <windows.h> as the runtime's Windows code includes it: without the min/max macros it would
// otherwise define (they break std::min/std::max) and without the rarely used APIs.
#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif
