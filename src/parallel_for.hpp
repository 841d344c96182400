// The one way the library runs work on several threads (the rule VM, the roll-up,
// report_batch::compact, the batch builder and the units reader): independent tasks
// 0 … count-1 taken in turn by a few threads, the calling thread among them. Internal
// (not installed): the public knob is a `threads` option, 0 meaning every core.
//
// Why one helper: the call sites used to start their threads three ways, with three
// policies on errors and on a thread that cannot be started. Here it is one policy:
// - tasks are taken in turn (not fixed shares): on a shared machine one core is often
//   slowed for milliseconds, and the others then take more;
// - after a task throws, no later task is started, and the exception rethrown is the
//   one of the lowest-numbered task that failed: the error a one-thread pass in task
//   order would have met first (callers that number tasks in file or field order
//   thereby keep the error they would report single-threaded);
// - a thread that cannot be started is not an error: the started ones do its share.

#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace unionstat {
namespace detail {

/// The threads to use: `requested` (0: every core), at most `useful` (the work's own
/// limit, e.g. its number of tasks, or 1 when it is too small to share), at least 1.
inline unsigned thread_count(unsigned requested, std::size_t useful) noexcept {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned want = requested == 0 ? cores : requested;
    return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(want, useful)));
}

/// Runs body(task, worker) for every task in [0, count) on `threads` threads (worker 0
/// is the calling thread; worker < threads, so per-worker state can be an array).
/// Returns when every started task has finished; rethrows as described above.
template <class Body>
void parallel_for(std::size_t count, unsigned threads, Body&& body) {
    struct failure {
        std::size_t task;
        std::exception_ptr error;
    };
    threads = std::max(1u, static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(count, 1))));
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failed{count};                         // lowest task that threw so far (count: none)
    std::vector<failure> errors(threads, failure{count, nullptr});  // per worker: the task it failed at
    auto work = [&](unsigned worker) {
        for (std::size_t task; (task = next.fetch_add(1)) < count;) {
            if (task > failed.load()) return;
            try {
                body(task, worker);
            } catch (...) {
                errors[worker] = {task, std::current_exception()};
                for (std::size_t was = failed.load(); task < was && !failed.compare_exchange_weak(was, task);) {
                }
                return;  // (its later tasks would come after the failure anyway)
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned t = 1; t < threads; ++t) {
        try {
            pool.emplace_back(work, t);
        } catch (...) {  // no thread to be had: the others (and this one) do the work
            break;
        }
    }
    work(0);
    for (auto& th : pool) th.join();
    const std::size_t lowest = failed.load();
    if (lowest == count) return;
    for (const failure& f : errors)
        if (f.task == lowest) std::rethrow_exception(f.error);
}

}  // namespace detail
}  // namespace unionstat
