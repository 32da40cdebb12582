/** Reading PyTorch checkpoints (zip format) and checking their keys against a model. */
export { DTYPE_BYTES, type OpenCheckpointOptions, type TensorInfo, type TorchDtype, TorchCheckpoint, isContiguous, numel, openCheckpoint, toFloat32 } from './checkpoint.js';
export { type AssertKeysOptions, type CompareKeysOptions, type KeyReport, type KeyShape, type MisshapedKey, assertKeysMatch, compareKeys, formatKeyReport } from './keys.js';
export { UnpicklingError, unpickle } from './pickle.js';
export { ZipReader, type ZipEntry, type ZipOpenOptions, crc32 } from './zip.js';
