// Where tuner code has always found ReferenceArgs; the declaration lives with the references that use it.
#pragma once

#include "tuner/references/ReferenceArgs.h"
