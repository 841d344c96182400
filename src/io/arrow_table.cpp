#include "unionstat/io/arrow_table.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "unionstat/error.hpp"

namespace unionstat {

// One stored column: Arrow buffers ready to be pointed at. Immutable once built.
struct result_table::column {
    std::string name;
    column_type type = column_type::int64;
    std::string format;
    bool nullable = true;
    std::shared_ptr<const void> owner;    // holds the values (and offsets) below
    const void* data = nullptr;           // values; bits for booleans; offsets for utf8
    std::string chars;                    // utf8 bytes
    std::vector<std::uint64_t> validity;  // Arrow validity (bit set = valid); empty: no null
    std::size_t nulls = 0;
};

namespace {

using column = result_table::column;
using columns = std::vector<std::shared_ptr<const column>>;

// A buffer that is never null, even for an empty column: consumers may refuse a null
// data pointer, and an empty vector's data() may be one.
const void* non_null(const void* p) noexcept {
    alignas(16) static const std::uint64_t zeros[4] = {};
    return p ? p : zeros;
}

template <class T>
void hold(column& c, std::vector<T>&& values) {
    auto owned = std::make_shared<std::vector<T>>(std::move(values));
    c.data = non_null(owned->data());
    c.owner = std::move(owned);
}

// missing (bit set = null) → Arrow validity (bit set = valid), and the null count.
void set_validity(column& c, std::vector<std::uint64_t> missing, std::size_t n) {
    c.nulls = 0;
    if (missing.empty()) return;
    if (missing.size() != (n + 63) / 64)
        throw value_error("column '" + c.name + "': missing bitmap of " + std::to_string(missing.size()) + " words for " +
                          std::to_string(n) + " rows");
    for (std::size_t w = 0; w < missing.size(); ++w) {
        std::uint64_t m = missing[w];
        if (w + 1 == missing.size() && n % 64) m &= (std::uint64_t(1) << (n % 64)) - 1;  // bits past the end are no rows
        c.nulls += static_cast<std::size_t>(__builtin_popcountll(m));
        missing[w] = ~m;
    }
    if (c.nulls) c.validity = std::move(missing);
}

// Nulls among rows [start, start + len).
std::int64_t nulls_in(const column& c, std::size_t start, std::size_t len) noexcept {
    if (!c.nulls) return 0;
    std::size_t count = 0;
    for (std::size_t i = start; i < start + len;) {
        if (i % 64 == 0 && i + 64 <= start + len) {
            count += 64 - static_cast<std::size_t>(__builtin_popcountll(c.validity[i / 64]));
            i += 64;
        } else {
            count += ((c.validity[i / 64] >> (i % 64)) & 1u) ? 0 : 1;
            ++i;
        }
    }
    return static_cast<std::int64_t>(count);
}

// --- schemas ---------------------------------------------------------------------------

struct schema_private {
    std::string format, name;
    std::vector<ArrowSchema> child_structs;
    std::vector<ArrowSchema*> child_ptrs;
};

// Releases a struct's children (those a consumer has not moved out), then its own
// private data: the same for schemas and arrays, whose private parts differ.
template <class Private, class T>
void release_with_children(T* s) {
    if (!s || !s->release) return;
    for (std::int64_t i = 0; i < s->n_children; ++i) {
        T* c = s->children[i];
        if (c && c->release) c->release(c);  // a consumer may have moved a child out
    }
    delete static_cast<Private*>(s->private_data);
    s->release = nullptr;
}

void release_schema(ArrowSchema* s) { release_with_children<schema_private>(s); }

void fill_schema(ArrowSchema* out, std::string format, std::string name, std::int64_t flags) {
    auto* p = new schema_private{std::move(format), std::move(name), {}, {}};
    out->format = p->format.c_str();
    out->name = p->name.c_str();
    out->metadata = nullptr;
    out->flags = flags;
    out->n_children = 0;
    out->children = nullptr;
    out->dictionary = nullptr;
    out->release = release_schema;
    out->private_data = p;
}

void export_schema_of(const columns& cols, ArrowSchema* out) {
    fill_schema(out, "+s", "", 0);
    auto* p = static_cast<schema_private*>(out->private_data);
    try {
        p->child_structs.resize(cols.size());
        p->child_ptrs.resize(cols.size());
        for (std::size_t i = 0; i < cols.size(); ++i) {
            p->child_ptrs[i] = &p->child_structs[i];
            p->child_structs[i].release = nullptr;
        }
        for (std::size_t i = 0; i < cols.size(); ++i)
            fill_schema(&p->child_structs[i], cols[i]->format, cols[i]->name, cols[i]->nullable ? ARROW_FLAG_NULLABLE : 0);
    } catch (...) {
        out->n_children = static_cast<std::int64_t>(p->child_ptrs.size());
        out->children = p->child_ptrs.data();
        release_schema(out);
        throw;
    }
    out->n_children = static_cast<std::int64_t>(cols.size());
    out->children = p->child_ptrs.data();
}

// --- arrays ----------------------------------------------------------------------------

struct array_private {
    std::shared_ptr<const column> keep;  // the column whose buffers a child points at
    const void* buffers[3] = {nullptr, nullptr, nullptr};
    std::vector<ArrowArray> child_structs;
    std::vector<ArrowArray*> child_ptrs;
};

void release_array(ArrowArray* a) { release_with_children<array_private>(a); }

void blank_array(ArrowArray* out, array_private* p) {
    out->length = 0;
    out->null_count = 0;
    out->offset = 0;
    out->n_buffers = 0;
    out->n_children = 0;
    out->buffers = p->buffers;
    out->children = nullptr;
    out->dictionary = nullptr;
    out->release = release_array;
    out->private_data = p;
}

void export_column(const std::shared_ptr<const column>& c, std::size_t start, std::size_t len, ArrowArray* out) {
    auto* p = new array_private;
    p->keep = c;
    blank_array(out, p);
    out->length = static_cast<std::int64_t>(len);
    out->offset = static_cast<std::int64_t>(start);  // a slice: the buffers are the whole column's
    out->null_count = nulls_in(*c, start, len);
    p->buffers[0] = out->null_count ? c->validity.data() : nullptr;
    p->buffers[1] = c->data;
    out->n_buffers = 2;
    if (c->type == result_table::column_type::utf8) {
        p->buffers[2] = non_null(c->chars.data());
        out->n_buffers = 3;
    }
}

void export_slice(const columns& cols, std::size_t start, std::size_t len, ArrowArray* out) {
    auto* p = new array_private;
    blank_array(out, p);
    out->length = static_cast<std::int64_t>(len);
    out->n_buffers = 1;  // a struct's only buffer, its validity: none, no row is null
    try {
        p->child_structs.resize(cols.size());
        p->child_ptrs.resize(cols.size());
        for (std::size_t i = 0; i < cols.size(); ++i) {
            p->child_ptrs[i] = &p->child_structs[i];
            p->child_structs[i].release = nullptr;
        }
        out->n_children = static_cast<std::int64_t>(cols.size());
        out->children = p->child_ptrs.data();
        for (std::size_t i = 0; i < cols.size(); ++i) export_column(cols[i], start, len, &p->child_structs[i]);
    } catch (...) {
        release_array(out);
        throw;
    }
}

// --- streams ---------------------------------------------------------------------------

struct stream_private {
    columns cols;
    std::size_t rows = 0, batch = 0, next = 0;
    std::string error;
};

int stream_get_schema(ArrowArrayStream* s, ArrowSchema* out) {
    auto* p = static_cast<stream_private*>(s->private_data);
    try {
        export_schema_of(p->cols, out);
        return 0;
    } catch (const std::bad_alloc&) {
        p->error = "out of memory";
        return ENOMEM;
    } catch (const std::exception& e) {
        p->error = e.what();
        return EINVAL;
    }
}

int stream_get_next(ArrowArrayStream* s, ArrowArray* out) {
    auto* p = static_cast<stream_private*>(s->private_data);
    try {
        if (p->next >= p->rows) {
            out->release = nullptr;  // the end of the stream
            return 0;
        }
        const std::size_t len = std::min(p->batch, p->rows - p->next);
        export_slice(p->cols, p->next, len, out);
        p->next += len;
        return 0;
    } catch (const std::bad_alloc&) {
        p->error = "out of memory";
        return ENOMEM;
    } catch (const std::exception& e) {
        p->error = e.what();
        return EINVAL;
    }
}

const char* stream_last_error(ArrowArrayStream* s) {
    auto* p = static_cast<stream_private*>(s->private_data);
    return p->error.empty() ? nullptr : p->error.c_str();
}

void stream_release(ArrowArrayStream* s) {
    if (!s || !s->release) return;
    delete static_cast<stream_private*>(s->private_data);
    s->release = nullptr;
}

}  // namespace

result_table::result_table() = default;

std::vector<std::string> result_table::column_names() const {
    std::vector<std::string> out;
    out.reserve(columns_.size());
    for (const auto& c : columns_) out.push_back(c->name);
    return out;
}

result_table::column_type result_table::type(std::size_t i) const { return columns_.at(i)->type; }

void result_table::add(std::shared_ptr<column> c, std::size_t n) {
    if (!columns_.empty() && n != rows_)
        throw value_error("column '" + c->name + "' has " + std::to_string(n) + " rows, the table " + std::to_string(rows_));
    for (const auto& other : columns_)
        if (other->name == c->name) throw value_error("column '" + c->name + "' is added twice");
    rows_ = n;
    columns_.push_back(std::move(c));
}

namespace {
std::shared_ptr<column> make_column(std::string name, result_table::column_type t, std::string format, bool nullable) {
    auto c = std::make_shared<column>();
    c->name = std::move(name);
    c->type = t;
    c->format = std::move(format);
    c->nullable = nullable;
    return c;
}

// A column of fixed-width values held as they are (one buffer besides the validity).
template <class T>
std::shared_ptr<column> fixed_column(std::string name, result_table::column_type t, const char* format, std::vector<T>&& values,
                                     std::vector<std::uint64_t>&& missing, bool nullable) {
    auto c = make_column(std::move(name), t, format, nullable);
    set_validity(*c, std::move(missing), values.size());
    hold(*c, std::move(values));
    return c;
}
}  // namespace

void result_table::add_int64(std::string name, std::vector<std::int64_t> values, std::vector<std::uint64_t> missing,
                             bool nullable) {
    const std::size_t n = values.size();
    add(fixed_column(std::move(name), column_type::int64, "l", std::move(values), std::move(missing), nullable), n);
}

void result_table::add_int32(std::string name, std::vector<std::int32_t> values, std::vector<std::uint64_t> missing,
                             bool nullable) {
    const std::size_t n = values.size();
    add(fixed_column(std::move(name), column_type::int32, "i", std::move(values), std::move(missing), nullable), n);
}

void result_table::add_uint32(std::string name, std::vector<std::uint32_t> values, std::vector<std::uint64_t> missing,
                              bool nullable) {
    const std::size_t n = values.size();
    add(fixed_column(std::move(name), column_type::uint32, "I", std::move(values), std::move(missing), nullable), n);
}

void result_table::add_float64(std::string name, std::vector<double> values, std::vector<std::uint64_t> missing, bool nullable) {
    const std::size_t n = values.size();
    add(fixed_column(std::move(name), column_type::float64, "g", std::move(values), std::move(missing), nullable), n);
}

void result_table::add_bool(std::string name, const std::vector<std::uint8_t>& values, std::vector<std::uint64_t> missing,
                            bool nullable) {
    auto c = make_column(std::move(name), column_type::boolean, "b", nullable);
    const std::size_t n = values.size();
    set_validity(*c, std::move(missing), n);
    std::vector<std::uint64_t> bits((n + 63) / 64, 0);
    for (std::size_t i = 0; i < n; ++i)
        if (values[i]) bits[i / 64] |= std::uint64_t(1) << (i % 64);
    hold(*c, std::move(bits));
    add(std::move(c), n);
}

void result_table::add_utf8(std::string name, std::vector<std::int64_t> offsets, std::string bytes,
                            std::vector<std::uint64_t> missing, bool nullable) {
    if (offsets.empty()) offsets.push_back(0);
    const std::size_t n = offsets.size() - 1;
    if (offsets[0] < 0 || static_cast<std::uint64_t>(offsets[n]) > bytes.size())
        throw value_error("column '" + name + "': string offsets outside the bytes");
    for (std::size_t i = 0; i < n; ++i)
        if (offsets[i + 1] < offsets[i]) throw value_error("column '" + name + "': string offsets decrease");
    // Offsets of 32 bits ('u') while the bytes fit, as most consumers expect; 64 ('U') past 2 GiB.
    const bool large = offsets[n] > std::numeric_limits<std::int32_t>::max();
    auto c = make_column(std::move(name), column_type::utf8, large ? "U" : "u", nullable);
    set_validity(*c, std::move(missing), n);
    if (large) {
        hold(*c, std::move(offsets));
    } else {
        std::vector<std::int32_t> narrow(offsets.begin(), offsets.end());
        hold(*c, std::move(narrow));
    }
    c->chars = std::move(bytes);
    add(std::move(c), n);
}

void result_table::add_utf8(std::string name, const std::vector<std::string>& values, std::vector<std::uint64_t> missing,
                            bool nullable) {
    std::vector<std::string_view> views(values.begin(), values.end());
    add_utf8(std::move(name), views, std::move(missing), nullable);
}

void result_table::add_utf8(std::string name, const std::vector<std::string_view>& values, std::vector<std::uint64_t> missing,
                            bool nullable) {
    std::vector<std::int64_t> offsets;
    offsets.reserve(values.size() + 1);
    std::size_t total = 0;
    for (auto v : values) total += v.size();
    std::string bytes;
    bytes.reserve(total);
    offsets.push_back(0);
    for (auto v : values) {
        bytes.append(v.data(), v.size());
        offsets.push_back(static_cast<std::int64_t>(bytes.size()));
    }
    add_utf8(std::move(name), std::move(offsets), std::move(bytes), std::move(missing), nullable);
}

void result_table::add_decimal(std::string name, const std::vector<std::int64_t>& raw, int scale,
                               std::vector<std::uint64_t> missing, bool nullable) {
    if (scale < 0 || scale > 38) throw value_error("column '" + name + "': decimal scale must be 0..38");
    auto c = make_column(std::move(name), column_type::decimal128, "d:38," + std::to_string(scale), nullable);
    const std::size_t n = raw.size();
    set_validity(*c, std::move(missing), n);
    // 16 bytes a value, little-endian two's complement: the int64 sign-extended.
    std::vector<std::uint64_t> words(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        words[2 * i] = static_cast<std::uint64_t>(raw[i]);
        words[2 * i + 1] = raw[i] < 0 ? ~std::uint64_t(0) : 0;
    }
    hold(*c, std::move(words));
    add(std::move(c), n);
}

void result_table::export_schema(ArrowSchema* out) const { export_schema_of(columns_, out); }

void result_table::export_array(ArrowSchema* schema, ArrowArray* array) const {
    export_schema_of(columns_, schema);
    try {
        export_slice(columns_, 0, rows_, array);
    } catch (...) {
        schema->release(schema);
        throw;
    }
}

void result_table::export_stream(ArrowArrayStream* out, std::size_t batch_rows) const {
    auto* p = new stream_private;
    p->cols = columns_;
    p->rows = rows_;
    p->batch = batch_rows ? batch_rows : (rows_ ? rows_ : 1);
    out->get_schema = stream_get_schema;
    out->get_next = stream_get_next;
    out->get_last_error = stream_last_error;
    out->release = stream_release;
    out->private_data = p;
}

result_table batch_to_table(const report_batch& batch) {
    result_table t;
    const std::size_t n = batch.size();
    std::vector<std::int64_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = batch.row_number(i);
    t.add_int64("row", std::move(rows), {}, false);
    t.add_utf8("unit", batch.units(), {}, false);
    t.add_utf8("period", batch.periods(), {}, false);
    const form_schema& form = batch.form();
    for (std::size_t k = 0; k < form.size(); ++k) {
        const field_def& f = form.fields[k];
        std::vector<std::int64_t> values(n);
        batch.column(k).copy_to(0, n, values.data());
        std::vector<std::uint64_t> missing;
        if (const std::uint64_t* m = batch.missing_bits(k)) {
            missing.assign(m, m + (n + 63) / 64);
            for (std::size_t i = 0; i < n; ++i)  // the value under a blank is unspecified in a batch: 0 in the table
                if ((m[i / 64] >> (i % 64)) & 1u) values[i] = 0;
        }
        switch (f.type) {
            case field_type::count: t.add_int64(f.code, std::move(values), std::move(missing)); break;
            case field_type::money: t.add_decimal(f.code, values, f.scale, std::move(missing)); break;
            case field_type::flag: {
                std::vector<std::uint8_t> flags(values.begin(), values.end());
                t.add_bool(f.code, flags, std::move(missing));
                break;
            }
        }
    }
    return t;
}

}  // namespace unionstat
