#pragma once
/// \file arrow_abi.hpp
/// The Arrow C data interface and C stream interface (the ABI every Arrow producer and
/// consumer speaks: pyarrow, polars, duckdb, nanoarrow, Arrow C++), written from the
/// specification, plus move-only owners that release each struct exactly once.
///
/// The structs are declared in the global namespace under the spec's canonical include
/// guards, so that this header and any other copy of the definitions (Arrow C++,
/// nanoarrow, a user's own) can be included together in one translation unit.

#include <stdint.h>  // the C structs use the global int64_t, as the spec's C header does

#include <utility>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

/// The type of an array (a column, or a record batch as a struct of columns).
struct ArrowSchema {
    const char* format;    ///< the type as a format string ("l", "u", "d:38,6", "+s", ...)
    const char* name;      ///< the field name (UTF-8), may be NULL
    const char* metadata;  ///< binary key/value metadata, may be NULL
    int64_t flags;         ///< ARROW_FLAG_* bits
    int64_t n_children;
    struct ArrowSchema** children;
    struct ArrowSchema* dictionary;        ///< the value type of a dictionary-encoded array, else NULL
    void (*release)(struct ArrowSchema*);  ///< NULL once released
    void* private_data;
};

/// The data of an array: buffers as the format prescribes, children, dictionary.
struct ArrowArray {
    int64_t length;
    int64_t null_count;  ///< -1 when not computed
    int64_t offset;      ///< logical offset into the buffers (a sliced array)
    int64_t n_buffers;
    int64_t n_children;
    const void** buffers;
    struct ArrowArray** children;
    struct ArrowArray* dictionary;
    void (*release)(struct ArrowArray*);  ///< NULL once released
    void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

/// A pull-style stream of record batches sharing one schema.
struct ArrowArrayStream {
    /// Writes the stream's schema to `out`; 0 on success, an errno value otherwise.
    int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
    /// Writes the next batch to `out` (a released array at the end); 0 or an errno value.
    int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
    /// The message of the last error, valid until the next call; may be NULL.
    const char* (*get_last_error)(struct ArrowArrayStream*);
    void (*release)(struct ArrowArrayStream*);  ///< NULL once released
    void* private_data;
};

#endif  // ARROW_C_STREAM_INTERFACE

#ifdef __cplusplus
}
#endif

namespace unionstat {

/// Owns one Arrow C struct (ArrowSchema, ArrowArray or ArrowArrayStream) and calls its
/// `release` exactly once: when the owner dies, is reset or is assigned to. Move-only,
/// because two owners of one struct would release it twice. Taking a struct over moves
/// it (a bitwise copy, the source marked released), which the spec allows: its children
/// and private data live elsewhere.
template <class T>
class arrow_owner {
public:
    /// An owner of nothing (a released struct).
    arrow_owner() noexcept { value_.release = nullptr; }
    /// Takes over `*from` (which is left marked released); nothing if `from` is null.
    explicit arrow_owner(T* from) noexcept : arrow_owner() {
        if (from) {
            value_ = *from;
            from->release = nullptr;
        }
    }
    arrow_owner(const arrow_owner&) = delete;
    arrow_owner& operator=(const arrow_owner&) = delete;
    arrow_owner(arrow_owner&& other) noexcept : arrow_owner(&other.value_) {}
    arrow_owner& operator=(arrow_owner&& other) noexcept {
        if (this != &other) {
            reset();
            value_ = other.value_;
            other.value_.release = nullptr;
        }
        return *this;
    }
    ~arrow_owner() { reset(); }

    /// Releases the struct now (if it is not released yet).
    void reset() noexcept {
        if (value_.release) {
            value_.release(&value_);
            value_.release = nullptr;  // a careless producer may not clear it
        }
    }
    /// The struct, for a producer to write into: release what is held first.
    T* out() noexcept {
        reset();
        return &value_;
    }
    /// Moves the struct to `to` (e.g. a consumer's struct); this owner holds nothing after.
    void move_to(T* to) noexcept {
        *to = value_;
        value_.release = nullptr;
    }
    /// True while the struct is not released.
    bool valid() const noexcept { return value_.release != nullptr; }
    explicit operator bool() const noexcept { return valid(); }
    T* get() noexcept { return &value_; }
    const T* get() const noexcept { return &value_; }
    T* operator->() noexcept { return &value_; }
    const T* operator->() const noexcept { return &value_; }

private:
    T value_{};
};

/// Owner of an ArrowSchema.
using arrow_schema_owner = arrow_owner<ArrowSchema>;
/// Owner of an ArrowArray.
using arrow_array_owner = arrow_owner<ArrowArray>;
/// Owner of an ArrowArrayStream.
using arrow_stream_owner = arrow_owner<ArrowArrayStream>;

}  // namespace unionstat
