package dev.kiln.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Cuts an in-memory dataset into mini-batches, one epoch at a time.
 *
 * <p>With shuffling, the row order of epoch {@code e} is a Fisher-Yates permutation driven by a
 * {@link SplittableRandom} whose seed depends only on the loader's seed and {@code e}. The same
 * seed thus replays the same orders, and an epoch's order does not depend on which epochs ran
 * before it, so training can resume at any epoch. Without shuffling every epoch uses the
 * dataset's order.
 *
 * <p>Each iteration of {@link #epoch(int)} allocates its row order and one {@link Batch} sized
 * for {@code batchSize} rows, and reuses that batch for every step of the epoch.
 */
public final class DataLoader {

    /** The odd increment, 2^64 divided by the golden ratio, that SplittableRandom also uses. */
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;

    /**
     * Creates a loader.
     *
     * @param data the rows to iterate over
     * @param batchSize the number of rows per batch, at least 1
     * @param shuffle whether each epoch visits the rows in a seeded random order
     * @param seed the seed of the epoch orders; ignored without shuffling
     * @param dropLast whether to skip the last batch when it has fewer than {@code batchSize} rows
     * @throws IllegalArgumentException if the batch size is below 1
     */
    public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, boolean dropLast) {
        this.data = Objects.requireNonNull(data, "data");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
    }

    /** Returns the dataset the loader reads. */
    public Dataset data() {
        return data;
    }

    /** Returns the maximum number of rows per batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Returns {@code floor(n / batchSize)} with {@code dropLast}, otherwise {@code ceil(n / batchSize)}. */
    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /**
     * Returns the batches of one epoch. Each call of {@code iterator()} replays the same order.
     *
     * @param epoch the 0-based epoch number
     * @throws IllegalArgumentException if the epoch is negative
     */
    public Iterable<Batch> epoch(int epoch) {
        checkEpoch(epoch);
        return () -> new BatchIterator(order(epoch));
    }

    /**
     * Returns the row order of an epoch: a permutation of {@code 0..n-1}, or the identity
     * without shuffling.
     *
     * @throws IllegalArgumentException if the epoch is negative
     */
    public int[] order(int epoch) {
        checkEpoch(epoch);
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (shuffle) {
            Split.shuffle(order, new SplittableRandom(epochSeed(seed, epoch)));
        }
        return order;
    }

    /**
     * Derives an epoch's seed. SplittableRandom(s) steps its state by GOLDEN_GAMMA, so seeding
     * epoch e with {@code seed + GOLDEN_GAMMA * e} would make epoch e+1 replay epoch e shifted by
     * one draw. Hashing with the 64-bit finalizer of MurmurHash3 (Stafford's variant 13, as in
     * SplittableRandom's own mixing) makes the epochs' streams unrelated.
     */
    private static void checkEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        }
    }

    static long epochSeed(long seed, int epoch) {
        long z = seed + GOLDEN_GAMMA * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private final class BatchIterator implements Iterator<Batch> {
        private final int[] order;
        private final Batch batch = new Batch(batchSize, data);
        private final int batchCount = batchesPerEpoch();
        private int next;

        BatchIterator(int[] order) {
            this.order = order;
        }

        @Override
        public boolean hasNext() {
            return next < batchCount;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("the epoch has " + batchCount + " batches and all were returned");
            }
            int from = next * batchSize;
            batch.fill(data, order, from, Math.min(batchSize, order.length - from));
            next++;
            return batch;
        }
    }
}
