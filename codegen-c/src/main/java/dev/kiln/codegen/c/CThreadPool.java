package dev.kiln.codegen.c;

/**
 * The C text of the thread pool that large kernels of a generated library share: one pool per
 * library, with workers created on first use and kept for the life of the process.
 *
 * <p>A parallel kernel splits one axis of its output into contiguous ranges, one per thread, and
 * every output element is computed by the same instructions in the same order as on one thread,
 * so results are bit-identical for every thread count. No kernel splits a sum: weight gradients,
 * which contract over the batch, split their output rows or columns instead.
 */
final class CThreadPool {
    private CThreadPool() {
    }

    /** Returns the pool, {@code kiln_parallel} and the exported thread-count functions. */
    static String text() {
        return """
                /*
                 * Thread pool. kiln_parallel hands contiguous ranges of a kernel's rows to worker
                 * threads and runs the first range on the calling thread. Workers spin for
                 * KILN_SPIN_NANOS after their last task, so that the kernels of one entry reach them
                 * without a wake-up, then block on a condition variable. The thread count comes from
                 * the environment variable KILN_NUM_THREADS when the library loads, else the number
                 * of online CPUs capped at KILN_DEFAULT_MAX_THREADS, and kiln_set_num_threads changes
                 * it. One parallel kernel runs at a time per library: a call that finds the pool busy
                 * (a concurrent entry call on another thread) runs its kernel on its own thread.
                 * Defining KILN_NO_THREADS when compiling keeps every kernel on the calling thread.
                 * A child created by fork() has none of the parent's workers: fork handlers wait
                 * for a running kernel to finish and give the child an empty pool, which creates
                 * workers again when it first needs them.
                 * NOTE: KILN_SPIN_NANOS and KILN_PARALLEL_MIN_WORK were tuned on one 2-core machine
                 * only; machines with more cores may want other values. There, a 784-256-128-10
                 * training step ran in about 0.96 ms in some processes and 1.45 ms in others of
                 * the same program and thread count, and mostly fast with address randomization
                 * off: likely an effect of where memory lands, whose cause is not yet found.
                 */
                typedef void (*kiln_task)(void *context, int64_t begin, int64_t end);

                #define KILN_MAX_THREADS 64
                #define KILN_DEFAULT_MAX_THREADS 8
                /*
                 * Fewest multiply-adds (or elements) per thread worth a hand-off. On a 2-core AMD
                 * EPYC (Zen 4) with GCC 12 -O3, splitting the 1024 x 20 x 20 products of a small MLP
                 * (409,600 multiply-adds) made its predict slower and erratic, while the products of
                 * a 784-256-128-10 training step (4 to 26 million) gained about 1.5x.
                 */
                #define KILN_PARALLEL_MIN_WORK 262144.0

                #if !defined(KILN_NO_THREADS) && defined(__GNUC__) && (defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__)) && !defined(__STDC_NO_ATOMICS__)
                #define KILN_THREADS 1
                #include <pthread.h>
                #include <signal.h>
                #include <stdatomic.h>
                #include <stdlib.h>
                #include <time.h>
                #include <unistd.h>

                /*
                 * Idle workers spin this long before they block. A worker that has blocked needs a
                 * wake-up that took tens of microseconds and varied widely; 1 ms keeps the workers
                 * awake across the sequential parts of a training step (the optimizer update), as
                 * OpenMP runtimes and OpenBLAS also spin before they sleep.
                 */
                #define KILN_SPIN_NANOS 1000000

                typedef struct kiln_worker {
                    atomic_uint job;  /* incremented by the caller for each range it hands over */
                    int64_t begin;
                    int64_t end;
                    pthread_t thread;
                    char padding[64];
                } kiln_worker;

                static struct {
                    pthread_mutex_t busy;  /* held by the thread that runs a parallel kernel */
                    pthread_mutex_t lock;  /* guards sleepers, waiting and the condition variables */
                    pthread_cond_t wake;
                    pthread_cond_t finished;
                    atomic_int threads;
                    int initial_threads;
                    int started;  /* workers created, guarded by busy */
                    int sleepers;
                    int waiting;
                    atomic_int remaining;  /* ranges handed to workers and not yet done */
                    atomic_int stop;  /* set when the library unloads */
                    kiln_task task;
                    void *context;
                    kiln_worker workers[KILN_MAX_THREADS];
                } kiln_pool = {
                    .busy = PTHREAD_MUTEX_INITIALIZER,
                    .lock = PTHREAD_MUTEX_INITIALIZER,
                    .wake = PTHREAD_COND_INITIALIZER,
                    .finished = PTHREAD_COND_INITIALIZER,
                };

                static inline int64_t kiln_nanos(void) {
                    struct timespec t;
                    clock_gettime(CLOCK_MONOTONIC, &t);
                    return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
                }

                static inline void kiln_pause(void) {
                #if defined(__x86_64__) || defined(__i386__)
                    __builtin_ia32_pause();
                #elif defined(__aarch64__)
                    __asm__ __volatile__("yield");
                #endif
                }

                /* Returns after *value differs from seen: spins for KILN_SPIN_NANOS, then blocks on cond. */
                static unsigned kiln_await_change(atomic_uint *value, unsigned seen, pthread_cond_t *cond, int *blocked) {
                    int64_t deadline = 0;
                    for (unsigned spins = 1;; spins++) {
                        unsigned now = atomic_load_explicit(value, memory_order_acquire);
                        if (now != seen) {
                            return now;
                        }
                        if (spins % 256 == 0) {
                            int64_t time = kiln_nanos();
                            if (deadline == 0) {
                                deadline = time + KILN_SPIN_NANOS;
                            } else if (time > deadline) {
                                break;
                            }
                        }
                        kiln_pause();
                    }
                    pthread_mutex_lock(&kiln_pool.lock);
                    (*blocked)++;
                    unsigned now;
                    while ((now = atomic_load_explicit(value, memory_order_acquire)) == seen) {
                        pthread_cond_wait(cond, &kiln_pool.lock);
                    }
                    (*blocked)--;
                    pthread_mutex_unlock(&kiln_pool.lock);
                    return now;
                }

                static void *kiln_worker_main(void *argument) {
                    kiln_worker *self = argument;
                    /* Asynchronous signals go to the application's own threads, never to a worker. */
                    sigset_t all;
                    sigfillset(&all);
                    pthread_sigmask(SIG_BLOCK, &all, NULL);
                    unsigned seen = 0;
                    for (;;) {
                        seen = kiln_await_change(&self->job, seen, &kiln_pool.wake, &kiln_pool.sleepers);
                        if (atomic_load_explicit(&kiln_pool.stop, memory_order_acquire)) {
                            return NULL;
                        }
                        kiln_pool.task(kiln_pool.context, self->begin, self->end);
                        if (atomic_fetch_sub_explicit(&kiln_pool.remaining, 1, memory_order_acq_rel) == 1) {
                            pthread_mutex_lock(&kiln_pool.lock);
                            if (kiln_pool.waiting) {
                                pthread_cond_signal(&kiln_pool.finished);
                            }
                            pthread_mutex_unlock(&kiln_pool.lock);
                        }
                    }
                    return NULL;
                }

                /* Creates workers up to count; returns how many exist. Called with busy held. */
                static int kiln_pool_grow(int count) {
                    while (kiln_pool.started < count) {
                        kiln_worker *worker = &kiln_pool.workers[kiln_pool.started];
                        if (pthread_create(&worker->thread, NULL, kiln_worker_main, worker) != 0) {
                            break;
                        }
                        kiln_pool.started++;
                    }
                    return kiln_pool.started;
                }

                /* Waits until every worker has finished its range: spins briefly, then blocks. */
                static void kiln_pool_join(void) {
                    int64_t deadline = 0;
                    for (unsigned spins = 1; atomic_load_explicit(&kiln_pool.remaining, memory_order_acquire) != 0; spins++) {
                        if (spins % 256 == 0) {
                            int64_t time = kiln_nanos();
                            if (deadline == 0) {
                                deadline = time + KILN_SPIN_NANOS;
                            } else if (time > deadline) {
                                pthread_mutex_lock(&kiln_pool.lock);
                                kiln_pool.waiting = 1;
                                while (atomic_load_explicit(&kiln_pool.remaining, memory_order_acquire) != 0) {
                                    pthread_cond_wait(&kiln_pool.finished, &kiln_pool.lock);
                                }
                                kiln_pool.waiting = 0;
                                pthread_mutex_unlock(&kiln_pool.lock);
                                return;
                            }
                        }
                        kiln_pause();
                    }
                }

                static int kiln_default_threads(void) {
                    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                    return cpus < 1 ? 1 : (cpus > KILN_DEFAULT_MAX_THREADS ? KILN_DEFAULT_MAX_THREADS : (int) cpus);
                }

                /* fork() waits until no parallel kernel runs, so the pool's state is consistent in the child. */
                static void kiln_fork_prepare(void) {
                    pthread_mutex_lock(&kiln_pool.busy);
                }

                static void kiln_fork_parent(void) {
                    pthread_mutex_unlock(&kiln_pool.busy);
                }

                /* The child has only the forking thread: forget the parent's workers. */
                static void kiln_fork_child(void) {
                    for (int w = 0; w < kiln_pool.started; w++) {
                        atomic_store(&kiln_pool.workers[w].job, 0);
                    }
                    kiln_pool.started = 0;
                    kiln_pool.sleepers = 0;
                    kiln_pool.waiting = 0;
                    atomic_store(&kiln_pool.remaining, 0);
                    pthread_mutex_init(&kiln_pool.lock, NULL);
                    pthread_cond_init(&kiln_pool.wake, NULL);
                    pthread_cond_init(&kiln_pool.finished, NULL);
                    pthread_mutex_unlock(&kiln_pool.busy);
                }

                /* Reads KILN_NUM_THREADS when the library loads; a value that is not a positive integer is ignored. */
                __attribute__((constructor)) static void kiln_pool_init(void) {
                    pthread_atfork(kiln_fork_prepare, kiln_fork_parent, kiln_fork_child);
                    const char *text = getenv("KILN_NUM_THREADS");
                    int threads = kiln_default_threads();
                    if (text != NULL) {
                        char *end;
                        long value = strtol(text, &end, 10);
                        if (end != text && *end == '\\0' && value >= 1) {
                            threads = value > KILN_MAX_THREADS ? KILN_MAX_THREADS : (int) value;
                        }
                    }
                    kiln_pool.initial_threads = threads;
                    atomic_store(&kiln_pool.threads, threads);
                }

                /*
                 * Ends the workers when the library unloads (dlclose, or the end of the process), so
                 * that none runs code that is no longer mapped.
                 */
                __attribute__((destructor)) static void kiln_pool_stop(void) {
                    pthread_mutex_lock(&kiln_pool.busy);
                    atomic_store_explicit(&kiln_pool.stop, 1, memory_order_release);
                    for (int w = 0; w < kiln_pool.started; w++) {
                        atomic_fetch_add_explicit(&kiln_pool.workers[w].job, 1, memory_order_release);
                    }
                    pthread_mutex_lock(&kiln_pool.lock);
                    pthread_cond_broadcast(&kiln_pool.wake);
                    pthread_mutex_unlock(&kiln_pool.lock);
                    for (int w = 0; w < kiln_pool.started; w++) {
                        pthread_join(kiln_pool.workers[w].thread, NULL);
                    }
                    kiln_pool.started = 0;
                    pthread_mutex_unlock(&kiln_pool.busy);
                }

                static int kiln_threads(void) {
                    return atomic_load_explicit(&kiln_pool.threads, memory_order_relaxed);
                }

                static void kiln_store_threads(int threads) {
                    atomic_store(&kiln_pool.threads, threads < 1 ? kiln_pool.initial_threads
                            : (threads > KILN_MAX_THREADS ? KILN_MAX_THREADS : threads));
                }
                #else
                static int kiln_threads(void) {
                    return 1;
                }

                static void kiln_store_threads(int threads) {
                    (void) threads;
                }
                #endif

                /*
                 * Runs task over [0, count) in up to kiln_threads() contiguous ranges whose bounds are
                 * multiples of grain (the last range ends at count), given work multiply-adds (or
                 * elements) in all. Returns 0 without running anything where one thread is configured,
                 * the work is too small or the pool is busy; the caller then runs the whole range.
                 */
                static int kiln_parallel(int64_t count, int64_t grain, double work, kiln_task task, void *context) {
                #if defined(KILN_THREADS)
                    int64_t blocks = (count + grain - 1) / grain;
                    double affordable = work / KILN_PARALLEL_MIN_WORK;
                    int64_t parts = kiln_threads();
                    parts = parts < blocks ? parts : blocks;
                    parts = (double) parts < affordable ? parts : (int64_t) affordable;
                    if (parts < 2 || pthread_mutex_trylock(&kiln_pool.busy) != 0) {
                        return 0;
                    }
                    int workers = kiln_pool_grow((int) parts - 1);
                    parts = workers + 1 < parts ? workers + 1 : parts;
                    if (parts < 2) {
                        pthread_mutex_unlock(&kiln_pool.busy);
                        return 0;
                    }
                    kiln_pool.task = task;
                    kiln_pool.context = context;
                    atomic_store_explicit(&kiln_pool.remaining, (int) parts - 1, memory_order_relaxed);
                    /* Part p takes blocks [p * blocks / parts, (p + 1) * blocks / parts). */
                    for (int64_t p = 1; p < parts; p++) {
                        kiln_worker *worker = &kiln_pool.workers[p - 1];
                        int64_t end = (p + 1) * blocks / parts * grain;
                        worker->begin = p * blocks / parts * grain;
                        worker->end = end < count ? end : count;
                        atomic_fetch_add_explicit(&worker->job, 1, memory_order_release);
                    }
                    pthread_mutex_lock(&kiln_pool.lock);
                    if (kiln_pool.sleepers > 0) {
                        pthread_cond_broadcast(&kiln_pool.wake);
                    }
                    pthread_mutex_unlock(&kiln_pool.lock);
                    int64_t first = blocks / parts * grain;
                    task(context, 0, first < count ? first : count);
                    kiln_pool_join();
                    pthread_mutex_unlock(&kiln_pool.busy);
                    return 1;
                #else
                    (void) count;
                    (void) grain;
                    (void) work;
                    (void) task;
                    (void) context;
                    return 0;
                #endif
                }

                /*
                 * Sets the number of threads that this library's kernels use, from the next call on;
                 * a value below 1 restores the count chosen at load time, and values above
                 * KILN_MAX_THREADS are capped. Call it between entry calls.
                 */
                KILN_EXPORT void kiln_set_num_threads(int threads) {
                    kiln_store_threads(threads);
                }

                /* Returns the number of threads that this library's kernels use (1 in a build without threads). */
                KILN_EXPORT int kiln_num_threads(void) {
                    return kiln_threads();
                }

                /* Operands of a rows-form small matmul whose row ranges run on several threads. */
                typedef struct kiln_rows_job {
                    const float *a;
                    const float *b;
                    float *c;
                } kiln_rows_job;

                /* What a fused kernel of an entry needs to find its operands on another thread. */
                typedef struct kiln_entry_job {
                    int64_t batch;
                    const double *call;
                    float *ws;
                    void *const *args;
                    const double *scalars;
                } kiln_entry_job;

                """;
    }
}
