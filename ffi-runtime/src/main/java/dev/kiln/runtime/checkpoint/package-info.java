/**
 * Reading and writing model checkpoints in the safetensors format.
 *
 * <p>A safetensors file is an 8-byte little-endian header length {@code N}, then {@code N}
 * bytes of UTF-8 JSON that map each tensor name to its dtype, shape and byte range, plus an
 * optional {@code "__metadata__"} object of strings, then the raw little-endian tensor bytes.
 * {@link dev.kiln.runtime.checkpoint.Safetensors} reads and writes such files, so checkpoints
 * move between Kiln, PyTorch and Hugging Face tools.
 */
package dev.kiln.runtime.checkpoint;
