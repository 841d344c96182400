// libFuzzer target for the Arrow import (src/io/arrow_import.cpp): the input bytes choose
// a record batch — format strings, lengths, offsets, null counts, buffer counts, the
// bytes of validity, offset, value and view buffers, dictionaries — and the import
// must either read it or refuse it with a unionstat::error; a crash, a sanitizer report
// or any other exception is a bug. Every buffer is allocated to exactly the size its
// array claims (offsets and views point inside what was allocated), so ASan reports any
// read past what the producer promised. Every struct must be released exactly once.
//
//   CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DUNIONSTAT_FUZZ=ON -DUNIONSTAT_TESTS=OFF
//   cmake --build build-fuzz --target fuzz_arrow_import
//   ./build-fuzz/tests/fuzz/fuzz_arrow_import -runs=10000000
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "unionstat/error.hpp"
#include "unionstat/forms/registry.hpp"
#include "unionstat/io/arrow_abi.hpp"
#include "unionstat/io/arrow_import.hpp"

namespace {

// Reads choices from the fuzz bytes; zeros once they run out.
struct bytes_in {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    std::uint32_t below(std::uint32_t k) { return k ? byte() % k : 0; }
    std::int64_t i64() {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
        return static_cast<std::int64_t>(v);
    }
    void fill(std::vector<std::uint8_t>& b) {
        for (auto& x : b) x = byte();
    }
};

int live_structs = 0;  // schemas and arrays made and not yet released

struct schema_box {
    std::string format, name;
    std::vector<ArrowSchema> kids;
    std::vector<ArrowSchema*> ptrs;
    ArrowSchema dict{};
};
struct array_box {
    std::vector<std::vector<std::uint8_t>> bufs;
    std::vector<const void*> ptrs;
    std::vector<ArrowArray> kids;
    std::vector<ArrowArray*> kid_ptrs;
    ArrowArray dict{};
};

void release_schema(ArrowSchema* s) {
    if (!s->release) std::abort();
    auto* b = static_cast<schema_box*>(s->private_data);
    for (auto* k : b->ptrs)
        if (k->release) k->release(k);
    if (s->dictionary && s->dictionary->release) s->dictionary->release(s->dictionary);
    delete b;
    s->release = nullptr;
    --live_structs;
}
void release_array(ArrowArray* a) {
    if (!a->release) std::abort();
    auto* b = static_cast<array_box*>(a->private_data);
    for (auto* k : b->kid_ptrs)
        if (k->release) k->release(k);
    if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
    delete b;
    a->release = nullptr;
    --live_structs;
}

const char* const formats[] = {"n", "b", "c", "C", "s", "S", "i", "I", "l", "L", "f", "g", "u", "U", "vu",
                               "d:38,6", "d:10,2", "d:5,-2", "d:76,4,256", "d:9,2,32", "d:18,3,64", "d:38,0",
                               "tsu:", "+s", "d:x", "e", "z", "w:4", "d:38,6,7", "d:0,0", ""};
const char* const names[] = {"unit", "period", "01A", "01B", "05A", "07J", "02A", "row", "备注", "", "99Z", "unit"};

int value_width(const std::string& f) {
    if (f == "c" || f == "C") return 1;
    if (f == "s" || f == "S") return 2;
    if (f == "i" || f == "I" || f == "f") return 4;
    if (f == "l" || f == "L" || f == "g") return 8;
    if (f.rfind("d:", 0) == 0) {
        if (f.size() > 4 && f.compare(f.size() - 4, 4, ",256") == 0) return 32;
        if (f.size() > 3 && f.compare(f.size() - 3, 3, ",32") == 0) return 4;
        if (f.size() > 3 && f.compare(f.size() - 3, 3, ",64") == 0) return 8;
        return 16;
    }
    return 1;
}

// The buffers of one array of `format`, `slots` values long (offset + length).
void make_buffers(bytes_in& in, const std::string& format, std::int64_t slots, array_box& box) {
    const std::size_t n = static_cast<std::size_t>(slots);
    auto validity = [&] {
        std::vector<std::uint8_t> v((n + 7) / 8);
        in.fill(v);
        return v;
    };
    int count = format == "n" ? 0 : (format == "u" || format == "U") ? 3 : format == "vu" ? 3 : 2;
    if (in.below(16) == 0) count = static_cast<int>(in.below(5));  // sometimes a wrong count
    std::vector<std::vector<std::uint8_t>> bufs;
    std::vector<bool> null_buf;
    if (format == "u" || format == "U") {
        const bool large = format == "U";
        std::vector<std::int64_t> offsets(n + 1);
        std::int64_t at = in.below(4), top = at;
        const bool raw = in.below(8) == 0;  // raw values: may decrease or be negative
        for (auto& o : offsets) {
            if (raw) o = static_cast<std::int8_t>(in.byte()) * 4;
            else at += in.below(8);
            if (!raw) o = at;
            top = o > top ? o : top;
        }
        std::vector<std::uint8_t> ob(offsets.size() * (large ? 8 : 4));
        for (std::size_t i = 0; i < offsets.size(); ++i) {
            if (large) std::memcpy(ob.data() + 8 * i, &offsets[i], 8);
            else {
                const auto o32 = static_cast<std::int32_t>(offsets[i]);
                std::memcpy(ob.data() + 4 * i, &o32, 4);
            }
        }
        std::vector<std::uint8_t> chars(static_cast<std::size_t>(top > 0 ? top : 0));
        in.fill(chars);
        bufs = {validity(), ob, chars};
    } else if (format == "vu") {
        const std::size_t nvar = in.below(4);
        std::vector<std::vector<std::uint8_t>> data(nvar);
        for (auto& d : data) {
            d.resize(in.below(48));
            in.fill(d);
        }
        std::vector<std::uint8_t> views(16 * n);
        for (std::size_t i = 0; i < n; ++i) {
            std::uint8_t* v = views.data() + 16 * i;
            const std::uint32_t mode = in.below(4);
            std::int32_t len = static_cast<std::int32_t>(in.below(mode == 0 ? 13 : 40));
            if (mode == 3) len = static_cast<std::int32_t>(in.i64());  // anything, the reader must check
            std::memcpy(v, &len, 4);
            if (len <= 12) {
                for (int k = 4; k < 16; ++k) v[k] = in.byte();
            } else {
                std::int32_t buf = static_cast<std::int32_t>(in.below(5)) - 1, off = static_cast<std::int32_t>(in.below(48));
                std::memcpy(v + 8, &buf, 4);
                std::memcpy(v + 12, &off, 4);
            }
        }
        bufs.push_back(validity());
        bufs.push_back(views);
        std::vector<std::uint8_t> sizes(8 * nvar);
        for (std::size_t k = 0; k < nvar; ++k) {
            const auto s = static_cast<std::int64_t>(data[k].size());
            std::memcpy(sizes.data() + 8 * k, &s, 8);
            bufs.push_back(data[k]);
        }
        bufs.push_back(sizes);
        count = static_cast<int>(bufs.size());
        // A wrong count must stay detectable: fewer than 3 buffers. A larger wrong count
        // would pass a data buffer off as the sizes buffer, a lie about buffer sizes no
        // consumer of the C interface can see (the harness promises honest sizes).
        if (in.below(16) == 0) count = static_cast<int>(in.below(3));
    } else if (format == "b") {
        std::vector<std::uint8_t> bits((n + 7) / 8);
        in.fill(bits);
        bufs = {validity(), bits};
    } else {
        std::vector<std::uint8_t> values(n * static_cast<std::size_t>(value_width(format)));
        in.fill(values);
        bufs = {validity(), values};
    }
    for (int i = 0; i < count; ++i) {
        // A buffer the array has no data for is a null pointer; so is one the fuzzer drops.
        if (static_cast<std::size_t>(i) < bufs.size() && in.below(16) != 0) {
            box.bufs.push_back(std::move(bufs[static_cast<std::size_t>(i)]));
            box.ptrs.push_back(box.bufs.back().empty() ? static_cast<const void*>(&box) : box.bufs.back().data());
        } else {
            box.ptrs.push_back(nullptr);
        }
    }
}

// One column (schema + array), `rows` logical rows after the parent's `parent_offset`.
void make_column(bytes_in& in, std::int64_t needed, ArrowSchema* s, ArrowArray* a, bool allow_dict, const char* name) {
    auto* sb = new schema_box;
    sb->format = in.below(32) == 0 ? std::string(1, static_cast<char>(in.byte())) : formats[in.below(sizeof formats / sizeof *formats)];
    sb->name = name;
    *s = ArrowSchema{};
    s->format = sb->format.c_str();
    s->name = sb->name.c_str();
    s->release = release_schema;
    s->private_data = sb;
    ++live_structs;

    auto* ab = new array_box;
    *a = ArrowArray{};
    a->offset = in.below(6);
    a->length = needed + static_cast<std::int64_t>(in.below(4));
    if (in.below(16) == 0) a->length = static_cast<std::int64_t>(in.below(8));  // maybe too short
    if (in.below(64) == 0) {  // offset + length past int64: must be refused before any buffer is touched
        a->offset = std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(in.below(4));
        a->length = needed + 4;
    }
    const std::int64_t slots = (a->offset >= 0 && a->offset < 64 ? a->offset : 0) + (a->length < 256 ? a->length : 0);
    const std::string storage = sb->format;
    const bool dict = allow_dict && in.below(6) == 0;
    std::string index_format = storage;
    if (dict) {
        const char* index_formats[] = {"c", "s", "i", "l", "C", "I", "L", "u"};
        index_format = index_formats[in.below(8)];
        sb->format = index_format;
        s->format = sb->format.c_str();
    }
    make_buffers(in, index_format, slots, *ab);
    a->n_buffers = static_cast<std::int64_t>(ab->ptrs.size());
    a->buffers = ab->ptrs.empty() ? nullptr : ab->ptrs.data();
    const std::uint32_t nc = in.below(8);
    a->null_count = nc == 0 ? -1 : nc == 1 ? a->length : nc == 2 ? static_cast<std::int64_t>(in.below(300)) - 1 : 0;
    a->release = release_array;
    a->private_data = ab;
    ++live_structs;
    if (dict) {
        // The dictionary's values have their own format and length; the indices name them.
        ArrowArray* da = &ab->dict;
        make_column(in, static_cast<std::int64_t>(in.below(6)), &sb->dict, da, false, "");
        // The storage format of the dictionary values is what make_column chose; keep it.
        s->dictionary = &sb->dict;
        a->dictionary = da;
        if (in.below(16) == 0) {  // a dictionary in the array but not in the schema, or the other way
            if (in.below(2)) s->dictionary = nullptr;
            else a->dictionary = nullptr;
        }
        // Anything left dangling is released by the box that owns it.
        if (!s->dictionary) sb->dict.release(&sb->dict);
        if (!a->dictionary) ab->dict.release(&ab->dict);
    }
}

std::shared_ptr<const unionstat::form_schema> form() {
    static const auto f = unionstat::schema_registry::bundled().get("songnuan-2018");
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes_in in{data, size};
    const int columns = 1 + static_cast<int>(in.below(6));
    const std::int64_t rows = in.below(40), offset = in.below(5);

    ArrowSchema schema{};
    ArrowArray array{};
    auto* sb = new schema_box;
    sb->format = in.below(32) == 0 ? "+w" : "+s";
    schema.format = sb->format.c_str();
    schema.name = sb->name.c_str();
    schema.release = release_schema;
    schema.private_data = sb;
    ++live_structs;
    auto* ab = new array_box;
    array.length = rows;
    array.offset = offset;
    array.release = release_array;
    array.private_data = ab;
    ++live_structs;

    sb->kids.resize(static_cast<std::size_t>(columns));
    ab->kids.resize(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
        const char* name = c == 0 && in.below(4) != 0 ? "unit" : names[in.below(sizeof names / sizeof *names)];
        make_column(in, rows + offset, &sb->kids[static_cast<std::size_t>(c)], &ab->kids[static_cast<std::size_t>(c)], true,
                    name);
        sb->ptrs.push_back(&sb->kids[static_cast<std::size_t>(c)]);
        ab->kid_ptrs.push_back(&ab->kids[static_cast<std::size_t>(c)]);
    }
    schema.n_children = columns;
    schema.children = sb->ptrs.data();
    array.n_children = in.below(24) == 0 ? columns - 1 : columns;
    array.children = ab->kid_ptrs.data();
    // The struct's own validity: none, or a bitmap of its offset + length.
    std::vector<std::uint8_t> validity(static_cast<std::size_t>((rows + offset + 7) / 8));
    in.fill(validity);
    ab->bufs.push_back(validity);
    ab->ptrs.push_back(in.below(3) == 0 ? (ab->bufs.back().empty() ? static_cast<const void*>(ab) : ab->bufs.back().data())
                                        : nullptr);
    array.n_buffers = in.below(16) == 0 ? 2 : 1;
    if (array.n_buffers == 2) ab->ptrs.push_back(nullptr);
    array.buffers = ab->ptrs.data();
    array.null_count = ab->ptrs[0] ? -1 : 0;

    unionstat::arrow_import_options options;
    options.strict = in.below(2) == 0;
    if (in.below(4) == 0) options.row_column = "row";
    try {
        const auto r = unionstat::import_arrow(form(), &schema, &array, options);
        for (const auto& p : r.problems) (void)p.to_string();
    } catch (const unionstat::error& e) {
        (void)e.what();
    }
    if (schema.release || array.release || live_structs != 0) std::abort();  // released exactly once, all of them
    return 0;
}
