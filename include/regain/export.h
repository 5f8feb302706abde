// REGAIN_API marks what libregain.so exports: the library is compiled with hidden symbols,
// so only declarations in include/regain/ carrying this are part of the shared library's ABI.
#pragma once

#define REGAIN_API __attribute__((visibility("default")))
