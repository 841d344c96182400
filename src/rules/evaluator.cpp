#include "unionstat/rules/evaluator.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "column_kernels.hpp"
#include "kernel.hpp"
#include "unionstat/forms/cell.hpp"

namespace unionstat {
namespace rules {

const char* to_string(status s) noexcept {
    switch (s) {
        case status::pass: return "pass";
        case status::fail: return "fail";
        case status::skipped: return "skipped";
        case status::error: return "error";
    }
    return "?";
}

const char* to_string(reason r) noexcept {
    switch (r) {
        case reason::none: return "";
        case reason::missing: return "missing";
        case reason::level: return "level";
        case reason::no_previous: return "no_previous";
        case reason::overflow: return "overflow";
    }
    return "?";
}

bool report_result::ok() const noexcept {
    for (const auto& o : outcomes)
        if ((o.st == status::fail || o.st == status::error) && o.sev == severity::error) return false;
    return true;
}

std::vector<const rule_outcome*> report_result::violations() const {
    std::vector<const rule_outcome*> out;
    for (const auto& o : outcomes)
        if (o.st == status::fail || o.st == status::error) out.push_back(&o);
    return out;
}

std::size_t report_result::count(status s) const noexcept {
    return static_cast<std::size_t>(std::count_if(outcomes.begin(), outcomes.end(), [s](const rule_outcome& o) { return o.st == s; }));
}

bool batch_result::ok(const rule_set& rules) const noexcept {
    for (std::size_t r = 0; r < counts.size() && r < rules.size(); ++r)
        if (rules[r].def().sev == severity::error && (counts[r].fails || counts[r].errors)) return false;
    return true;
}

std::string format_ratio(std::int64_t num, std::int64_t den) {
    for (int s = 0; s <= 18; ++s)
        if (detail::pow10(s) == den) return format_scaled(num, s, true);
    // Not a power of ten (division by a constant): show 6 decimals, rounded half away from zero.
    wide_int v = wide_int(num) * 1000000 * 2 / den;
    v = (v + (v >= 0 ? 1 : -1)) / 2;
    return "≈" + format_scaled(v, 6, true);
}

namespace {

std::string fill(const std::string& templ, const form_schema& form, bool english,
                 const std::function<std::optional<std::int64_t>(std::size_t)>& value) {
    std::string out;
    out.reserve(templ.size() + 16);
    for (std::size_t i = 0; i < templ.size();) {
        if (templ[i] == '{') {
            const auto close = templ.find('}', i);
            if (close != std::string::npos) {
                const std::string name = templ.substr(i + 1, close - i - 1);
                if (auto f = form.find(name)) {
                    const auto v = value(*f);
                    out += v ? format_raw(form.fields[*f], *v) : (english ? "(blank)" : "（空）");
                    i = close + 1;
                    continue;
                }
            }
        }
        out += templ[i++];
    }
    return out;
}

}  // namespace

std::string fill_message(const std::string& templ, const report_batch& batch, std::size_t row) {
    return fill(templ, batch.form(), false, [&](std::size_t f) { return batch.raw(row, f); });
}

std::string fill_message(const std::string& templ, const report& r) {
    return fill(templ, r.form(), false, [&](std::size_t f) { return r.raw()[f]; });
}

// ---------------------------------------------------------------------------------
// One report: a tree walk over the checked AST, eager (no short-circuit) so that
// overflow anywhere in the rule is reported exactly as the batch VM reports it.

namespace {

struct walker {
    const compiled_rule& rule;
    const report& rep;
    const eval_context& ctx;
    std::vector<std::int64_t> value;
    std::vector<char> done, err;
    std::vector<const instruction*> code_of;  // node → its planned instruction

    walker(const compiled_rule& r, const report& rp, const eval_context& c)
        : rule(r), rep(rp), ctx(c), value(r.checked().tree.nodes.size()), done(value.size()), err(value.size()),
          code_of(value.size(), nullptr) {
        for (const auto& ins : r.code()) code_of[static_cast<std::size_t>(ins.dst)] = &ins;
    }

    std::optional<std::int64_t> field(value_source s, int f) const {
        const report* src = s == value_source::current ? &rep : s == value_source::previous ? ctx.previous : ctx.children;
        if (!src) return std::nullopt;
        return src->raw()[static_cast<std::size_t>(f)];
    }

    std::int64_t eval(int i) {
        const auto k = static_cast<std::size_t>(i);
        if (done[k]) return value[k];
        // The node's planned instruction, applied through the same kernel as the batch VM.
        const instruction& in = *code_of[k];
        bool e = false;
        std::int64_t v = 0;
        switch (in.op) {
            case opcode::load: v = field(in.source, in.field).value_or(0); break;
            case opcode::is_missing: v = !field(in.source, in.field).has_value(); break;
            default: {
                std::int64_t a = 0, b = 0;
                if (in.a >= 0) a = eval(in.a), e |= err[static_cast<std::size_t>(in.a)] != 0;
                if (in.b >= 0) b = eval(in.b), e |= err[static_cast<std::size_t>(in.b)] != 0;
                v = kernel::apply(in, a, b, e);
            }
        }
        value[k] = v;
        err[k] = e;
        done[k] = 1;
        return v;
    }
};

bool level_allowed(const rule_def& def, std::optional<unit_level> level) {
    if (def.levels.empty()) return true;
    if (!level) return false;
    return std::find(def.levels.begin(), def.levels.end(), *level) != def.levels.end();
}

}  // namespace

report_result evaluate(const rule_set& rules, const report& r, const eval_context& ctx) {
    report_result out;
    out.outcomes.reserve(rules.size());
    const form_schema& form = r.form();
    for (std::size_t ri = 0; ri < rules.size(); ++ri) {
        const compiled_rule& rule = rules[ri];
        const checked_rule& c = rule.checked();
        rule_outcome o;
        o.rule = ri;
        o.rule_id = rule.def().id;
        o.sev = rule.def().sev;
        for (int f : rule.fields()) o.fields.push_back(form.fields[static_cast<std::size_t>(f)].code);
        walker w(rule, r, ctx);
        std::size_t blanks = 0;
        bool no_prev = false;
        for (const auto& [src, f] : c.refs) {
            if (!w.field(src, f)) ++blanks;
            if (src == value_source::previous && !ctx.previous) no_prev = true;
        }
        if (!level_allowed(rule.def(), ctx.level)) {
            o.st = status::skipped;
            o.why = reason::level;
        } else if ((c.missing == missing_strategy::skip_if_any_missing && blanks > 0) ||
                   (c.missing == missing_strategy::skip_if_all_missing && !c.refs.empty() && blanks == c.refs.size())) {
            o.st = status::skipped;
            o.why = no_prev ? reason::no_previous : reason::missing;
        } else {
            const std::int64_t v = w.eval(rule.result_register());
            if (w.err[static_cast<std::size_t>(rule.result_register())]) {
                o.st = status::error;
                o.why = reason::overflow;
            } else {
                o.st = v ? status::pass : status::fail;
            }
            if (c.report_node >= 0) {
                const int a = rule.lhs_register(), b = rule.rhs_register();
                const std::int64_t lv = w.eval(a), rv = w.eval(b);
                if (!w.err[static_cast<std::size_t>(a)]) o.lhs = format_ratio(lv, rule.lhs_den());
                if (!w.err[static_cast<std::size_t>(b)]) o.rhs = format_ratio(rv, rule.rhs_den());
                if (o.lhs && o.rhs) {
                    const node_info& x = c.info[static_cast<std::size_t>(c.report_node)];
                    const wide_int d = wide_int(lv) * x.lhs_factor - wide_int(rv) * x.rhs_factor;
                    if (detail::fits_int64(d)) o.difference = format_ratio(static_cast<std::int64_t>(d), x.common_den);
                }
            }
        }
        if (o.st == status::fail || o.st == status::error) {
            o.message = rule.def().message.empty() ? rule.def().check : fill_message(rule.def().message, r);
            o.message_en = rule.def().message_en.empty()
                               ? rule.def().check
                               : fill(rule.def().message_en, form, true, [&](std::size_t f) { return r.raw()[f]; });
            if (o.st == status::error) {
                o.message += "（计算溢出）";
                o.message_en += " (arithmetic overflow)";
            }
        }
        out.outcomes.push_back(std::move(o));
    }
    return out;
}

std::vector<trace_step> explain(const rule_set& rules, std::size_t ri, const report& r, const eval_context& ctx) {
    const compiled_rule& rule = rules[ri];
    const checked_rule& c = rule.checked();
    walker w(rule, r, ctx);
    w.eval(rule.result_register());
    std::vector<trace_step> out;
    std::function<void(int, int)> visit = [&](int i, int depth) {
        const auto k = static_cast<std::size_t>(i);
        const node& n = c.tree.nodes[k];
        const node_info& x = c.info[k];
        trace_step s;
        s.node = i;
        s.depth = depth;
        s.source = c.tree.source(i);
        w.eval(i);
        if (w.err[k]) s.value = "overflow";
        else if (n.kind == node_kind::field && !w.field(x.source, x.field)) s.value = "blank";
        else if (x.boolean) s.value = w.value[k] ? "true" : "false";
        else s.value = format_ratio(w.value[k], x.den);
        out.push_back(std::move(s));
        // prev()/children_sum() show their own value; their field child would repeat it.
        if (n.kind == node_kind::prev || n.kind == node_kind::children_sum) return;
        for (int a : n.args) visit(a, depth + 1);
    };
    visit(rule.result_register(), 0);
    return out;
}

// ---------------------------------------------------------------------------------
// Batch: chunks of rows small enough that every column a chunk touches stays in
// cache while all rules run over it (fused), rows split across threads. Numbers are
// registers read in place where they are columns (32-bit for a narrow column, else
// 64-bit; what the VM computes is 64-bit); conditions are bit words.

namespace {

constexpr std::size_t chunk = batch_chunk_rows;

struct partial {
    std::vector<rule_counts> counts;
    std::vector<std::uint32_t> row, rule;
    std::vector<status> st;
    std::vector<reason> why;
    std::vector<std::int64_t> lhs, rhs;
};


class vm {
public:
    vm(const rule_set& rules, const report_batch& batch, const batch_options& opt, const std::vector<std::size_t>& which)
        : rules_(rules), batch_(batch), opt_(opt), which_(which) {
        int regs = 1;
        for (std::size_t r : which_) regs = std::max(regs, rules_[r].registers());
        buf_.resize(static_cast<std::size_t>(regs) * chunk);
        ptr_.resize(static_cast<std::size_t>(regs));
        narrow_.resize(static_cast<std::size_t>(regs));
        bits_.resize(static_cast<std::size_t>(regs));
        is_const_.resize(static_cast<std::size_t>(regs));
        // Constants: a chunk of copies each, made once.
        for (std::size_t r : which_)
            for (const auto& in : rules_[r].code())
                if (in.op == opcode::constant && !constants_.count(in.k))
                    constants_.emplace(in.k, std::vector<std::int64_t>(chunk, in.k));
        plans_.reserve(which_.size());
        std::map<comparison_key, int> slots;
        for (std::size_t r : which_) plans_.push_back(plan(r, slots));
        shared_.assign(slots.size() * words, 0);
        shared_chunk_.assign(slots.size(), no_chunk);
    }

    // Runs rows [begin, end) (begin a multiple of the chunk), adding to `out`.
    void run(std::size_t begin, std::size_t end, partial& out) {
        for (std::size_t c0 = begin; c0 < end; c0 += chunk) {
            const std::size_t n = std::min(chunk, end - c0);
            for (const rule_plan& p : plans_) run_rule(p, c0, n, out);
        }
    }

private:
    static constexpr std::size_t words = chunk / 64;
    static constexpr std::size_t max_sum = 16;  // operands summed in one pass
    static constexpr std::size_t no_chunk = std::numeric_limits<std::size_t>::max();

    // A rule as this call runs it: what would otherwise be looked up every chunk.
    struct rule_plan {
        std::size_t rule = 0;
        bool may_skip = false;  // some value the rule reads can be blank
        int lhs = -1, rhs = -1;  // registers of the reported sides
        std::vector<const std::int64_t*> constant;  // per instruction: a constant's chunk of copies
        std::vector<int> shared;  // per instruction: slot of a comparison shared across rules, or -1
        // Sums: `a + b + c + …` is a chain of adds, each feeding only the next. The last
        // add of a chain runs it in one pass (sum_of: the operands' registers, in order);
        // the others are skipped (folded). Overflow is flagged as the chain would.
        std::vector<std::vector<int>> sum_of;
        std::vector<char> folded;
    };

    // An exact comparison of a value with a number, e.g. `07J > 0`: rules that pair
    // conditions (`if a > 0 then b > 0` and its converse) compute the same bit words,
    // which are made once a chunk and shared.
    using comparison_key = std::tuple<int /*source*/, int /*field*/, int /*op*/, std::int64_t /*number*/, bool /*zero blanks*/>;

    rule_plan plan(std::size_t r, std::map<comparison_key, int>& slots) const {
        const compiled_rule& rule = rules_[r];
        const checked_rule& c = rule.checked();
        rule_plan p;
        p.rule = r;
        p.may_skip = may_skip(c);
        p.lhs = rule.lhs_register();
        p.rhs = rule.rhs_register();
        const bool zero_blanks = c.missing != missing_strategy::skip_if_any_missing;
        plan_sums(rule, p);
        std::vector<const instruction*> producer(static_cast<std::size_t>(rule.registers()), nullptr);
        for (const auto& in : rule.code()) {
            producer[static_cast<std::size_t>(in.dst)] = &in;
            p.constant.push_back(in.op == opcode::constant ? constants_.at(in.k).data() : nullptr);
            p.shared.push_back(-1);
            if (in.t != 0 || in.op < opcode::eq || in.op > opcode::ge) continue;
            const instruction* x = producer[static_cast<std::size_t>(in.a)];
            const instruction* y = producer[static_cast<std::size_t>(in.b)];
            const bool number_right = y->op == opcode::constant;
            const instruction* side = number_right ? x : y;
            const instruction* number = number_right ? y : x;
            std::int64_t k = 0;
            // Only an unscaled field against a number: a scaling could overflow, and its
            // flags belong to the rule.
            if (number->op != opcode::constant || side->op != opcode::load || (number_right ? in.ka : in.kb) != 1 ||
                !detail::mul_ok(number->k, number_right ? in.kb : in.ka, k))
                continue;
            simd::cmp_kind kind = simd::kind_of(in.op);
            if (!number_right) kind = simd::mirror(kind);
            const comparison_key key{static_cast<int>(side->source), side->field, static_cast<int>(kind), k,
                                     zero_blanks};
            p.shared.back() = slots.emplace(key, static_cast<int>(slots.size())).first->second;
        }
        return p;
    }

    // Finds the rule's sum chains (see rule_plan::sum_of): adds with unit factors whose
    // left operand is an add of the chain read nowhere else.
    static void plan_sums(const compiled_rule& rule, rule_plan& p) {
        const auto& code = rule.code();
        const auto regs = static_cast<std::size_t>(rule.registers());
        std::vector<int> uses(regs, 0), at_of(regs, -1);
        for (const auto& in : code) {
            if (in.a >= 0) ++uses[static_cast<std::size_t>(in.a)];
            if (in.b >= 0) ++uses[static_cast<std::size_t>(in.b)];
        }
        for (int r : {rule.result_register(), rule.lhs_register(), rule.rhs_register()})
            if (r >= 0) ++uses[static_cast<std::size_t>(r)];  // read after the program runs
        p.sum_of.assign(code.size(), {});
        p.folded.assign(code.size(), 0);
        std::vector<std::vector<int>> chain(regs);  // an add's operands so far
        for (std::size_t at = 0; at < code.size(); ++at) {
            const instruction& in = code[at];
            at_of[static_cast<std::size_t>(in.dst)] = static_cast<int>(at);
            if (in.op != opcode::add || in.ka != 1 || in.kb != 1) continue;
            auto& ops = chain[static_cast<std::size_t>(in.dst)];
            const auto a = static_cast<std::size_t>(in.a);
            const int from = at_of[a];
            if (from >= 0 && !chain[a].empty() && uses[a] == 1) {  // extends the chain that made `a`
                ops = std::move(chain[a]);
                p.folded[static_cast<std::size_t>(from)] = 1;
                p.sum_of[static_cast<std::size_t>(from)].clear();
            } else {
                ops = {in.a};
            }
            ops.push_back(in.b);
            if (ops.size() > 2) p.sum_of[at] = ops;
        }
    }

    std::int64_t* own(int r) { return buf_.data() + static_cast<std::size_t>(r) * chunk; }

    // Missing bit of (source, field) for one row.
    bool blank(value_source s, int f, std::size_t row) const {
        const auto fi = static_cast<std::size_t>(f);
        if (s == value_source::current) return batch_.is_missing(row, fi);
        if (s == value_source::children) return !opt_.children || opt_.children->is_missing(row, fi);
        if (!opt_.previous || row >= opt_.previous_rows.size()) return true;
        const std::int64_t pr = opt_.previous_rows[row];
        return pr < 0 || opt_.previous->is_missing(static_cast<std::size_t>(pr), fi);
    }

    // False when no value the rule reads can be blank: every reference is to a complete
    // column of the batch (other sources are looked at row by row).
    bool may_skip(const checked_rule& c) const {
        for (const auto& [src, f] : c.refs)
            if (src != value_source::current || batch_.missing_bits(static_cast<std::size_t>(f))) return true;
        return false;
    }

    // Missing words (bit i = row c0 + 64w + i) of a value for this chunk.
    void missing_words(value_source s, int f, std::size_t c0, std::size_t n, std::uint64_t* out) const {
        if (s == value_source::current || (s == value_source::children && opt_.children)) {
            const report_batch& b = s == value_source::current ? batch_ : *opt_.children;
            const std::uint64_t* m = b.missing_bits(static_cast<std::size_t>(f));
            for (std::size_t w = 0; w < (n + 63) / 64; ++w) out[w] = m ? m[(c0 >> 6) + w] : 0;
        } else {
            std::fill(out, out + words, std::uint64_t(0));
            for (std::size_t i = 0; i < n; ++i)
                if (blank(s, f, c0 + i)) out[i >> 6] |= std::uint64_t(1) << (i & 63);
        }
        if (n % 64) out[n / 64] &= (std::uint64_t(1) << (n % 64)) - 1;  // rows past the end
    }

    // Points register `in.dst` at the field's values (at the column's width). Blanks need
    // zeros only when the rule evaluates rows with blanks (never_skip,
    // skip_if_all_missing); otherwise the column is read in place, without a copy.
    void load(const instruction& in, std::size_t c0, std::size_t n, bool zero_blanks) {
        const auto f = static_cast<std::size_t>(in.field);
        const auto di = static_cast<std::size_t>(in.dst);
        std::int64_t* dst = own(in.dst);
        narrow_[di] = false;
        if (in.source == value_source::previous || (in.source == value_source::children && !opt_.children)) {
            const column_view prev = opt_.previous ? opt_.previous->column(f) : column_view();
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t row = c0 + i;
                const std::int64_t pr = (in.source == value_source::previous && opt_.previous && row < opt_.previous_rows.size())
                                            ? opt_.previous_rows[row]
                                            : -1;
                dst[i] = (pr < 0 || opt_.previous->is_missing(static_cast<std::size_t>(pr), f))
                             ? 0
                             : prev[static_cast<std::size_t>(pr)];
            }
            ptr_[di] = dst;
            return;
        }
        const report_batch& src = in.source == value_source::current ? batch_ : *opt_.children;
        const column_view col = src.column(f);
        narrow_[di] = col.narrow();
        const void* v = col.narrow() ? static_cast<const void*>(col.int32() + c0) : static_cast<const void*>(col.int64() + c0);
        ptr_[di] = v;
        const std::uint64_t* m = src.missing_bits(f);
        if (!m || !zero_blanks) return;
        m += c0 >> 6;
        std::uint64_t any = 0;
        for (std::size_t w = 0; w * 64 < n; ++w) any |= m[w];
        if (!any) return;  // no blank in this chunk: read in place
        col.narrow() ? zero_blank_rows(col.int32() + c0, m, reinterpret_cast<std::int32_t*>(dst), n)
                     : zero_blank_rows(col.int64() + c0, m, dst, n);
        ptr_[di] = dst;
    }

    // The chunk's values with its blanks (bits of m) as 0, at the column's width.
    template <class T>
    static void zero_blank_rows(const T* v, const std::uint64_t* m, T* dst, std::size_t n) {
        for (std::size_t w = 0; w * 64 < n; ++w) {
            const std::size_t lo = w * 64, hi = std::min(n, lo + 64);
            if (!m[w]) {
                std::copy(v + lo, v + hi, dst + lo);
                continue;
            }
            for (std::size_t i = lo; i < hi; ++i) dst[i] = ((m[w] >> (i - lo)) & 1u) ? 0 : v[i];
        }
    }

    // A register as the kernels read it.
    simd::operand arg(int r) const {
        return r < 0 ? simd::operand() : simd::operand(ptr_[static_cast<std::size_t>(r)], narrow_[static_cast<std::size_t>(r)] != 0);
    }

    // The bit words of a condition register: its own words, or a flag field's values
    // packed into `scratch` (a 是/否 field may stand where a condition is expected).
    const std::uint64_t* condition(int r, std::size_t n, std::uint64_t* scratch) const {
        const auto ri = static_cast<std::size_t>(r);
        if (bits_[ri]) return static_cast<const std::uint64_t*>(ptr_[ri]);
        simd::compare_bits(simd::cmp_kind::ne, arg(r), {}, 0, scratch, n);  // 是 is nonzero
        return scratch;
    }

    // An exact comparison with a number on one side compares against the number brought
    // to the common denominator once (not a chunk of copies of it scaled row by row).
    // False when neither side is a number or scaling it overflows (the general path then
    // reports that overflow).
    bool compare_with_number(const instruction& in, simd::operand a, simd::operand b, std::uint64_t* out, std::size_t n) {
        const bool number_right = is_const_[static_cast<std::size_t>(in.b)] != 0;
        if (!number_right && !is_const_[static_cast<std::size_t>(in.a)]) return false;
        std::int64_t k = 0;
        if (!detail::mul_ok(number_right ? in_k(in.b) : in_k(in.a), number_right ? in.kb : in.ka, k)) return false;
        simd::operand side = number_right ? a : b;
        const std::int64_t factor = number_right ? in.ka : in.kb;
        if (factor != 1) simd::scale(side, factor, tmp_a_, errors(n), n), side = tmp_a_;
        simd::cmp_kind kind = simd::kind_of(in.op);
        if (!number_right) kind = simd::mirror(kind);  // k < y is y > k
        simd::compare_bits(kind, side, {}, k, out, n);
        return true;
    }

    void exec(const rule_plan& p, std::size_t at, std::size_t c0, std::size_t n, bool zero_blanks) {
        if (p.folded[at]) return;  // part of a sum run by the chain's last add
        const instruction& in = rules_[p.rule].code()[at];
        const auto di = static_cast<std::size_t>(in.dst);
        std::int64_t* d = own(in.dst);
        auto* dw = reinterpret_cast<std::uint64_t*>(d);  // a condition's bit words
        ptr_[di] = d;
        narrow_[di] = false;
        bits_[di] = false;
        is_const_[di] = false;
        const std::size_t nw = (n + 63) / 64;
        switch (in.op) {
            case opcode::load: load(in, c0, n, zero_blanks); return;
            case opcode::is_missing:
                missing_words(in.source, in.field, c0, n, dw);
                bits_[di] = true;
                return;
            case opcode::constant:
                ptr_[di] = p.constant[at];
                is_const_[di] = true;
                return;
            default: break;
        }
        if (const int slot = p.shared[at]; slot >= 0) {
            // Made by an earlier rule in this chunk, or made here for the later ones.
            auto* words_of = shared_.data() + static_cast<std::size_t>(slot) * words;
            ptr_[di] = words_of;
            bits_[di] = true;
            if (shared_chunk_[static_cast<std::size_t>(slot)] == c0) return;
            shared_chunk_[static_cast<std::size_t>(slot)] = c0;
            dw = words_of;
        }
        const simd::operand a = arg(in.a), b = arg(in.b);
        if (const auto& ops = p.sum_of[at]; !ops.empty()) {
            simd::operand args[max_sum];
            const std::size_t k = std::min(ops.size(), max_sum);
            for (std::size_t j = 0; j < k; ++j) args[j] = arg(ops[j]);
            simd::sum(args, k, d, errors(n), n);
            for (std::size_t j = k; j < ops.size(); ++j) simd::add(d, arg(ops[j]), d, errors(n), n, false);  // (very long sums)
            return;
        }
        switch (in.op) {
            case opcode::logical_and:
            case opcode::logical_or:
            case opcode::implies:
            case opcode::logical_not: {
                const std::uint64_t* x = condition(in.a, n, scratch_a_);
                const std::uint64_t* y = in.b >= 0 ? condition(in.b, n, scratch_b_) : nullptr;
                switch (in.op) {
                    case opcode::logical_and: for (std::size_t w = 0; w < nw; ++w) dw[w] = x[w] & y[w]; break;
                    case opcode::logical_or: for (std::size_t w = 0; w < nw; ++w) dw[w] = x[w] | y[w]; break;
                    case opcode::implies: for (std::size_t w = 0; w < nw; ++w) dw[w] = ~x[w] | y[w]; break;
                    default: for (std::size_t w = 0; w < nw; ++w) dw[w] = ~x[w]; break;
                }
                bits_[di] = true;  // (bits past the chunk's rows are garbage: readers mask them)
                return;
            }
            case opcode::scale:
                if (in.k == 1) ptr_[di] = a.p, narrow_[di] = a.narrow;  // registers are read-only views
                else simd::scale(a, in.k, d, errors(n), n);
                return;
            case opcode::add:
            case opcode::sub:
            case opcode::eq:
            case opcode::ne:
            case opcode::lt:
            case opcode::le:
            case opcode::gt:
            case opcode::ge: {
                // Bring both sides to the common denominator, then one subtraction.
                if (in.t == 0 && in.op != opcode::add && in.op != opcode::sub && compare_with_number(in, a, b, dw, n)) {
                    bits_[di] = true;
                    return;
                }
                simd::operand x = a, y = b;
                if (in.ka != 1) simd::scale(a, in.ka, tmp_a_, errors(n), n), x = tmp_a_;
                if (in.kb != 1) simd::scale(b, in.kb, tmp_b_, errors(n), n), y = tmp_b_;
                if (in.op == opcode::add || in.op == opcode::sub) {
                    simd::add(x, y, d, errors(n), n, in.op == opcode::sub);
                    return;
                }
                bits_[di] = true;
                if (in.t == 0) {  // exact comparisons need no subtraction and cannot overflow
                    simd::compare_bits(simd::kind_of(in.op), x, y, 0, dw, n);  // (either width)
                    return;
                }
                simd::within(in.op, x, y, in.t, dw, errors(n), n);  // the difference in registers, in one pass
                return;
            }
            default: break;
        }
        // The rest (mul, neg, abs, min, max) through the shared scalar kernel.
        std::uint64_t* e = errors(n);
        for (std::size_t i = 0; i < n; ++i) {
            bool o = false;
            d[i] = kernel::apply(in, a ? a[i] : 0, b ? b[i] : 0, o);
            e[i >> 6] |= std::uint64_t(o) << (i & 63);
        }
    }

    void run_rule(const rule_plan& p, std::size_t c0, std::size_t n, partial& out) {
        const std::size_t ri = p.rule;
        const compiled_rule& rule = rules_[ri];
        const checked_rule& c = rule.checked();
        rule_counts& cnt = out.counts[ri];
        cnt.items += n;
        // Skip words: bit set = row skipped for blanks; level words likewise. They point
        // at the shared zero words unless some row of this chunk is skipped (the usual
        // case: complete columns, no level restriction).
        const std::size_t nw = (n + 63) / 64;
        std::uint64_t skip_w[words], level_w[words];
        const std::uint64_t* skip = zeros_;
        const std::uint64_t* level = zeros_;
        if (c.missing != missing_strategy::never_skip && !c.refs.empty() && p.may_skip) {
            const bool any = c.missing == missing_strategy::skip_if_any_missing;
            std::uint64_t m[words];
            std::fill(skip_w, skip_w + nw, any ? std::uint64_t(0) : ~std::uint64_t(0));
            for (const auto& [src, f] : c.refs) {
                missing_words(src, f, c0, n, m);
                for (std::size_t w = 0; w < nw; ++w) skip_w[w] = any ? (skip_w[w] | m[w]) : (skip_w[w] & m[w]);
            }
            if (n % 64) skip_w[n / 64] &= (std::uint64_t(1) << (n % 64)) - 1;
            skip = skip_w;
        }
        if (!rule.def().levels.empty()) {
            std::fill(level_w, level_w + nw, std::uint64_t(0));
            level = level_w;
            const auto& lv = rule.def().levels;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t row = c0 + i;
                const bool ok = row < opt_.levels.size() && std::find(lv.begin(), lv.end(), opt_.levels[row]) != lv.end();
                if (!ok) level_w[i >> 6] |= std::uint64_t(1) << (i & 63);
            }
        }
        const bool zero_blanks = c.missing != missing_strategy::skip_if_any_missing;
        err_used_ = false;  // most rules cannot overflow: their error flags are never touched
        for (std::size_t at = 0; at < rule.code().size(); ++at) exec(p, at, c0, n, zero_blanks);
        const std::uint64_t* res = condition(rule.result_register(), n, scratch_b_);
        const std::uint64_t* bad_errs = err_used_ ? err_ : zeros_;

        // Fast path: every row passed and nothing was skipped or overflowed. (Bits of the
        // result past row n are garbage: the last word is masked.)
        const std::uint64_t last_valid = n % 64 ? (std::uint64_t(1) << (n % 64)) - 1 : ~std::uint64_t(0);
        std::uint64_t all = res[nw - 1] | ~last_valid;
        for (std::size_t w = 0; w + 1 < nw; ++w) all &= res[w];
        std::uint64_t any_skip = 0;
        if (skip != zeros_ || level != zeros_ || bad_errs != zeros_)
            for (std::size_t w = 0; w < nw; ++w) any_skip |= skip[w] | level[w] | bad_errs[w];
        if (!any_skip && !opt_.keep_passes && all == ~std::uint64_t(0)) {
            cnt.passes += n;
            return;
        }
        const int lr = p.lhs, rr = p.rhs;
        const simd::operand lv = arg(lr), rv = arg(rr);
        auto list = [&](std::size_t i, status s, reason why) {
            out.row.push_back(static_cast<std::uint32_t>(c0 + i));
            out.rule.push_back(static_cast<std::uint32_t>(ri));
            out.st.push_back(s);
            out.why.push_back(why);
            out.lhs.push_back(lv && s != status::skipped ? lv[i] : 0);
            out.rhs.push_back(rv && s != status::skipped ? rv[i] : 0);
        };
        // Word at a time: passing rows are counted with popcount; only the rows that did
        // not pass (about 1% in real data) are visited one by one.
        std::uint64_t passed[words];
        for (std::size_t w = 0; w < nw; ++w) passed[w] = res[w] & ~(bad_errs[w] | skip[w] | level[w]);
        passed[nw - 1] &= last_valid;
        cnt.passes += simd::popcount(passed, nw);
        for (std::size_t w = 0; w < nw; ++w) {
            const std::uint64_t valid = w + 1 < nw ? ~std::uint64_t(0) : last_valid;
            std::uint64_t rest = opt_.keep_passes ? valid : valid & ~passed[w];
            if (!rest) continue;
            const std::size_t lo = w * 64;
            const std::uint64_t ok = res[w] & valid, bad_err = bad_errs[w];
            while (rest) {
                const int b = __builtin_ctzll(rest);
                rest &= rest - 1;
                const std::size_t i = lo + static_cast<std::size_t>(b);
                const std::uint64_t bit = std::uint64_t(1) << b;
                if (level[w] & bit) {
                    ++cnt.skipped;
                    if (opt_.keep_skipped) list(i, status::skipped, reason::level);
                } else if (skip[w] & bit) {
                    ++cnt.skipped;
                    if (opt_.keep_skipped) list(i, status::skipped, reason::missing);
                } else if (bad_err & bit) {
                    ++cnt.errors;
                    list(i, status::error, reason::overflow);
                } else if (ok & bit) {
                    list(i, status::pass, reason::none);  // keep_passes only
                } else {
                    ++cnt.fails;
                    list(i, status::fail, reason::none);
                }
            }
        }
    }

    const rule_set& rules_;
    const report_batch& batch_;
    const batch_options& opt_;
    const std::vector<std::size_t>& which_;
    std::vector<std::int64_t> buf_;
    std::vector<const void*> ptr_;  // per register: its values (int64, or int32 when narrow_) or bit words
    std::vector<char> narrow_;
    std::uint64_t err_[words];
    std::unordered_map<std::int64_t, std::vector<std::int64_t>> constants_;
    std::vector<rule_plan> plans_;  // one per rule run, in order
    std::vector<std::uint64_t> shared_;  // bit words of the shared comparisons, `words` each
    std::vector<std::size_t> shared_chunk_;  // first row of the chunk each slot holds
    std::vector<char> bits_, is_const_;  // per register: holds bit words; is a constant
    std::uint64_t scratch_a_[words], scratch_b_[words];
    const std::uint64_t zeros_[words] = {};
    std::int64_t in_k(int r) const { return static_cast<const std::int64_t*>(ptr_[static_cast<std::size_t>(r)])[0]; }  // a constant's value
    std::int64_t tmp_a_[chunk], tmp_b_[chunk];  // scaled operands
    bool err_used_ = false;

    // Overflow flags of the current rule (bit words), zeroed on first use.
    std::uint64_t* errors(std::size_t n) {
        if (!err_used_) {
            std::fill(err_, err_ + (n + 63) / 64, std::uint64_t(0));
            err_used_ = true;
        }
        return err_;
    }
};

}  // namespace

const char* batch_kernels() noexcept { return simd::to_string(simd::active()); }

batch_result evaluate(const rule_set& rules, const report_batch& batch, const batch_options& opt) {
    if (opt.previous && opt.previous_rows.size() != batch.size())
        throw value_error("previous_rows must have one entry per row of the batch");
    if (opt.children && opt.children->size() != batch.size())
        throw value_error("the children batch must be row-aligned with the batch");
    if (!opt.levels.empty() && opt.levels.size() != batch.size())
        throw value_error("levels must have one entry per row of the batch");
    std::vector<std::size_t> which = opt.only;
    if (which.empty()) {
        which.resize(rules.size());
        std::iota(which.begin(), which.end(), 0);
    }
    const std::size_t n = batch.size();
    unsigned threads = opt.threads > 0 ? static_cast<unsigned>(opt.threads) : std::max(1u, std::thread::hardware_concurrency());
    // Below a few chunks per thread, a thread costs more than it saves.
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, n / (4 * chunk))));
    std::vector<partial> parts(threads);
    // Threads take blocks of chunks in turn rather than fixed halves: on a shared
    // machine one core is often slowed for milliseconds, and the other then does more.
    constexpr std::size_t block = 4 * chunk;
    std::atomic<std::size_t> next{0};
    auto work = [&](unsigned t) {
        vm machine(rules, batch, opt, which);
        parts[t].counts.assign(rules.size(), rule_counts());
        for (std::size_t b = next.fetch_add(block); b < n; b = next.fetch_add(block))
            machine.run(b, std::min(n, b + block), parts[t]);
    };
    if (threads == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
        work(0);
        for (auto& th : pool) th.join();
    }
    batch_result out;
    out.rows = n;
    out.counts.assign(rules.size(), rule_counts());
    std::size_t total = 0;
    for (const auto& p : parts) total += p.row.size();
    std::vector<std::uint32_t> row, rule;
    std::vector<status> st;
    std::vector<reason> why;
    std::vector<std::int64_t> lhs, rhs;
    row.reserve(total);
    for (const auto& p : parts) {
        for (std::size_t r = 0; r < rules.size(); ++r) {
            out.counts[r].items += p.counts[r].items;
            out.counts[r].passes += p.counts[r].passes;
            out.counts[r].fails += p.counts[r].fails;
            out.counts[r].skipped += p.counts[r].skipped;
            out.counts[r].errors += p.counts[r].errors;
        }
        row.insert(row.end(), p.row.begin(), p.row.end());
        rule.insert(rule.end(), p.rule.begin(), p.rule.end());
        st.insert(st.end(), p.st.begin(), p.st.end());
        why.insert(why.end(), p.why.begin(), p.why.end());
        lhs.insert(lhs.end(), p.lhs.begin(), p.lhs.end());
        rhs.insert(rhs.end(), p.rhs.begin(), p.rhs.end());
    }
    // Order by (row, rule): the natural reading order of a violations table.
    std::vector<std::size_t> order(total);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return row[a] != row[b] ? row[a] < row[b] : rule[a] < rule[b];
    });
    out.row.reserve(total);
    for (std::size_t i : order) {
        out.row.push_back(row[i]);
        out.rule.push_back(rule[i]);
        out.st.push_back(st[i]);
        out.why.push_back(why[i]);
        out.lhs.push_back(lhs[i]);
        out.rhs.push_back(rhs[i]);
    }
    return out;
}

}  // namespace rules
}  // namespace unionstat
