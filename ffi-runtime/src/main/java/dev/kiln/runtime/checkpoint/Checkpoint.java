package dev.kiln.runtime.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The contents of a checkpoint: named tensors in order and string metadata. Instances are
 * immutable.
 */
public final class Checkpoint {

    /** Header key of the metadata object. No tensor may have this name. */
    static final String METADATA_KEY = "__metadata__";

    private final List<NamedTensor> tensors;
    private final Map<String, NamedTensor> byName;
    private final Map<String, String> metadata;

    /**
     * Creates a checkpoint.
     *
     * @param tensors the tensors, in the order a writer stores them
     * @param metadata string entries for the {@code __metadata__} header object, kept in
     *     iteration order
     * @throws IllegalArgumentException if two tensors share a name, a tensor is named
     *     {@code __metadata__}, or a metadata key or value is null
     */
    public Checkpoint(List<NamedTensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Map<String, NamedTensor> index = new LinkedHashMap<>();
        for (NamedTensor tensor : tensors) {
            Objects.requireNonNull(tensor, "tensors must not contain null");
            if (tensor.name().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor must not be named " + METADATA_KEY
                        + ", because safetensors reserves that header key for metadata");
            }
            if (index.putIfAbsent(tensor.name(), tensor) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + tensor.name()
                        + "'; every tensor in a checkpoint needs a unique name");
            }
        }
        Map<String, String> metadataCopy = new LinkedHashMap<>();
        metadata.forEach((key, value) -> {
            if (key == null || value == null) {
                throw new IllegalArgumentException("metadata must not contain null keys or values, found "
                        + key + " = " + value);
            }
            metadataCopy.put(key, value);
        });
        this.tensors = List.copyOf(tensors);
        this.byName = Collections.unmodifiableMap(index);
        this.metadata = Collections.unmodifiableMap(metadataCopy);
    }

    /** Returns the tensors in order; after a read, the order of their data in the file. */
    public List<NamedTensor> tensors() {
        return tensors;
    }

    /** Returns the tensor names in the order of {@link #tensors()}. */
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    /** Returns the metadata entries in header order; empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Returns the tensor with this name, or empty if there is none. */
    public Optional<NamedTensor> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * Returns the tensor with this name.
     *
     * @throws IllegalArgumentException if there is none; the message lists the names present
     */
    public NamedTensor tensor(String name) {
        NamedTensor tensor = byName.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in the checkpoint; it has "
                    + byName.keySet());
        }
        return tensor;
    }
}
