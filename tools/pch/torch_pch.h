// Precompiled for torch-heavy targets: parsing <torch/torch.h> costs ~9 s and
// ~1 GB per translation unit, so it is parsed once per target instead.
#include <torch/torch.h>
