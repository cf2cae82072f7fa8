#pragma once
// LibTorch's archives (bundles, adapted-state checkpoints) are zip files
// whose entries carry a CRC-32, but LibTorch's reader does not check it
// (its miniz is built without CRC checks) and its TorchScript and pickle
// parsers crash or allocate gigabytes on damaged bytes (found by
// fuzz_bundle and fuzz_checkpoint: a SEGV in ScriptTypeParser, a 4 GB
// string from a damaged length). So every archive we load is checked here
// first: a damaged file is an error before LibTorch sees a byte of it.
#include <string_view>

namespace ecotta::data {

// Throws DataError naming `what` if `bytes` is not a complete zip archive
// whose every entry lies inside the file and matches its CRC-32. Stored
// (uncompressed, as LibTorch writes) and deflated entries are both checked.
void check_zip_integrity(std::string_view bytes, const std::string& what);

}  // namespace ecotta::data
