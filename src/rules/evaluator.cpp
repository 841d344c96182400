#include "unionstat/rules/evaluator.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <tuple>
#include <unordered_map>

#include "../parallel_for.hpp"
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
    return static_cast<std::size_t>(
        std::count_if(outcomes.begin(), outcomes.end(), [s](const rule_outcome& o) { return o.st == s; }));
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
        : rule(r),
          rep(rp),
          ctx(c),
          value(r.checked().tree.nodes.size()),
          done(value.size()),
          err(value.size()),
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

// Why a rule is skipped on this report, or reason::none when it is evaluated.
reason skip_reason(const compiled_rule& rule, walker& w, const eval_context& ctx) {
    const checked_rule& c = rule.checked();
    if (!level_allowed(rule.def(), ctx.level)) return reason::level;
    std::size_t blanks = 0;
    bool no_prev = false;
    for (const auto& [src, f] : c.refs) {
        if (!w.field(src, f)) ++blanks;
        if (src == value_source::previous && !ctx.previous) no_prev = true;
    }
    const bool skip = (c.missing == missing_strategy::skip_if_any_missing && blanks > 0) ||
                      (c.missing == missing_strategy::skip_if_all_missing && !c.refs.empty() && blanks == c.refs.size());
    if (!skip) return reason::none;
    return no_prev ? reason::no_previous : reason::missing;
}

// The reported sides of a comparison rule and their difference, exact, where they did
// not overflow.
void report_sides(const compiled_rule& rule, walker& w, rule_outcome& o) {
    const checked_rule& c = rule.checked();
    const int a = rule.lhs_register(), b = rule.rhs_register();
    const std::int64_t lv = w.eval(a), rv = w.eval(b);
    if (!w.err[static_cast<std::size_t>(a)]) o.lhs = format_ratio(lv, rule.lhs_den());
    if (!w.err[static_cast<std::size_t>(b)]) o.rhs = format_ratio(rv, rule.rhs_den());
    if (!o.lhs || !o.rhs) return;
    const node_info& x = c.info[static_cast<std::size_t>(c.report_node)];
    const wide_int d = wide_int(lv) * x.lhs_factor - wide_int(rv) * x.rhs_factor;
    if (detail::fits_int64(d)) o.difference = format_ratio(static_cast<std::int64_t>(d), x.common_den);
}

// The messages of a failed or erring rule, in Chinese and English.
void set_messages(const compiled_rule& rule, const report& r, rule_outcome& o) {
    const rule_def& def = rule.def();
    o.message = def.message.empty() ? def.check : fill_message(def.message, r);
    o.message_en =
        def.message_en.empty() ? def.check : fill(def.message_en, r.form(), true, [&](std::size_t f) { return r.raw()[f]; });
    if (o.st == status::error) {
        o.message += "（计算溢出）";
        o.message_en += " (arithmetic overflow)";
    }
}

rule_outcome evaluate_rule(const rule_set& rules, std::size_t ri, const report& r, const eval_context& ctx) {
    const compiled_rule& rule = rules[ri];
    rule_outcome o;
    o.rule = ri;
    o.rule_id = rule.def().id;
    o.sev = rule.def().sev;
    for (int f : rule.fields()) o.fields.push_back(r.form().fields[static_cast<std::size_t>(f)].code);
    walker w(rule, r, ctx);
    if (const reason why = skip_reason(rule, w, ctx); why != reason::none) {
        o.st = status::skipped;
        o.why = why;
        return o;
    }
    const std::int64_t v = w.eval(rule.result_register());
    if (w.err[static_cast<std::size_t>(rule.result_register())]) {
        o.st = status::error;
        o.why = reason::overflow;
    } else {
        o.st = v ? status::pass : status::fail;
    }
    if (rule.checked().report_node >= 0) report_sides(rule, w, o);
    if (o.st == status::fail || o.st == status::error) set_messages(rule, r, o);
    return o;
}

}  // namespace

report_result evaluate(const rule_set& rules, const report& r, const eval_context& ctx) {
    report_result out;
    out.outcomes.reserve(rules.size());
    for (std::size_t ri = 0; ri < rules.size(); ++ri) out.outcomes.push_back(evaluate_rule(rules, ri, r, ctx));
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
        s.unit = x.unit;
        if (n.kind >= node_kind::eq && n.kind <= node_kind::ge) {
            // A comparison keeps no unit of its own: the sides' unit is the tolerance's.
            const node_info &l = c.info[static_cast<std::size_t>(n.args[0])], &r = c.info[static_cast<std::size_t>(n.args[1])];
            s.unit = l.unit.empty() ? r.unit : l.unit;
            s.tolerance = format_ratio(x.tolerance, x.common_den);
            s.stated_tolerance = rule.def().tolerance.has_value();
        }
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

// What one thread gathers: the batch's result structure, its listed pairs in the
// order that thread met them (merged and sorted at the end).
using partial = batch_result;

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
        bool may_skip = false;                      // some value the rule reads can be blank
        int lhs = -1, rhs = -1;                     // registers of the reported sides
        std::vector<const std::int64_t*> constant;  // per instruction: a constant's chunk of copies
        std::vector<int> shared;                    // per instruction: slot of a comparison shared across rules, or -1
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
            const comparison_key key{static_cast<int>(side->source), side->field, static_cast<int>(kind), k, zero_blanks};
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
        return r < 0 ? simd::operand()
                     : simd::operand(ptr_[static_cast<std::size_t>(r)], narrow_[static_cast<std::size_t>(r)] != 0);
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

    // Register r as written next: its own chunk, wide numbers (the instruction then
    // re-points it, e.g. at a column read in place, or marks it as bit words).
    std::int64_t* reset(int r) {
        const auto ri = static_cast<std::size_t>(r);
        std::int64_t* d = own(r);
        ptr_[ri] = d;
        narrow_[ri] = false;
        bits_[ri] = false;
        is_const_[ri] = false;
        return d;
    }

    // Runs instruction `at` of the rule on the chunk's n rows.
    void exec(const rule_plan& p, std::size_t at, std::size_t c0, std::size_t n, bool zero_blanks) {
        if (p.folded[at]) return;  // part of a sum run by the chain's last add
        const instruction& in = rules_[p.rule].code()[at];
        std::int64_t* d = reset(in.dst);
        auto* dw = reinterpret_cast<std::uint64_t*>(d);  // a condition's bit words
        if (exec_leaf(p, at, in, c0, n, zero_blanks)) return;
        if (p.shared[at] >= 0 && !claim_shared(p.shared[at], in.dst, c0, dw)) return;
        if (!p.sum_of[at].empty()) return exec_sum(p.sum_of[at], d, n);
        switch (in.op) {
            case opcode::logical_and:
            case opcode::logical_or:
            case opcode::implies:
            case opcode::logical_not: return exec_logic(in, dw, n);
            case opcode::scale: return exec_scale(in, d, n);
            case opcode::add:
            case opcode::sub: return exec_add(in, d, n);
            case opcode::eq:
            case opcode::ne:
            case opcode::lt:
            case opcode::le:
            case opcode::gt:
            case opcode::ge: return exec_compare(in, dw, n);
            default: return exec_scalar(in, d, n);
        }
    }

    // The instructions that read no register: a field, its blanks, a number. False for
    // the others.
    bool exec_leaf(const rule_plan& p, std::size_t at, const instruction& in, std::size_t c0, std::size_t n, bool zero_blanks) {
        const auto di = static_cast<std::size_t>(in.dst);
        switch (in.op) {
            case opcode::load: load(in, c0, n, zero_blanks); return true;
            case opcode::is_missing:
                missing_words(in.source, in.field, c0, n, reinterpret_cast<std::uint64_t*>(own(in.dst)));
                bits_[di] = true;
                return true;
            case opcode::constant:
                ptr_[di] = p.constant[at];
                is_const_[di] = true;
                return true;
            default: return false;
        }
    }

    // Points register r at the bit words of a comparison shared across rules (see
    // rule_plan::shared). False when an earlier rule made them in this chunk; else they
    // are to be made here, in `dw`, for the later ones.
    bool claim_shared(int slot, int r, std::size_t c0, std::uint64_t*& dw) {
        const auto si = static_cast<std::size_t>(slot), ri = static_cast<std::size_t>(r);
        std::uint64_t* words_of = shared_.data() + si * words;
        ptr_[ri] = words_of;
        bits_[ri] = true;
        if (shared_chunk_[si] == c0) return false;
        shared_chunk_[si] = c0;
        dw = words_of;
        return true;
    }

    // A sum chain in one pass (see rule_plan::sum_of).
    void exec_sum(const std::vector<int>& ops, std::int64_t* d, std::size_t n) {
        simd::operand args[max_sum];
        const std::size_t k = std::min(ops.size(), max_sum);
        for (std::size_t j = 0; j < k; ++j) args[j] = arg(ops[j]);
        simd::sum(args, k, d, errors(n), n);
        for (std::size_t j = k; j < ops.size(); ++j) simd::add(d, arg(ops[j]), d, errors(n), n, false);  // (very long sums)
    }

    // and, or, implies, not: word by word. (Bits past the chunk's rows are garbage:
    // readers mask them.)
    void exec_logic(const instruction& in, std::uint64_t* dw, std::size_t n) {
        const std::size_t nw = (n + 63) / 64;
        const std::uint64_t* x = condition(in.a, n, scratch_a_);
        const std::uint64_t* y = in.b >= 0 ? condition(in.b, n, scratch_b_) : nullptr;
        switch (in.op) {
            case opcode::logical_and:
                for (std::size_t w = 0; w < nw; ++w) dw[w] = x[w] & y[w];
                break;
            case opcode::logical_or:
                for (std::size_t w = 0; w < nw; ++w) dw[w] = x[w] | y[w];
                break;
            case opcode::implies:
                for (std::size_t w = 0; w < nw; ++w) dw[w] = ~x[w] | y[w];
                break;
            default:
                for (std::size_t w = 0; w < nw; ++w) dw[w] = ~x[w];
                break;
        }
        bits_[static_cast<std::size_t>(in.dst)] = true;
    }

    void exec_scale(const instruction& in, std::int64_t* d, std::size_t n) {
        const simd::operand a = arg(in.a);
        const auto di = static_cast<std::size_t>(in.dst);
        if (in.k != 1) return simd::scale(a, in.k, d, errors(n), n);
        ptr_[di] = a.p;  // registers are read-only views
        narrow_[di] = a.narrow;
    }

    // An operand brought to the common denominator: times k, in `tmp` unless k is 1.
    simd::operand scaled(simd::operand v, std::int64_t k, std::int64_t* tmp, std::size_t n) {
        if (k == 1) return v;
        simd::scale(v, k, tmp, errors(n), n);
        return tmp;
    }

    void exec_add(const instruction& in, std::int64_t* d, std::size_t n) {
        const simd::operand x = scaled(arg(in.a), in.ka, tmp_a_, n), y = scaled(arg(in.b), in.kb, tmp_b_, n);
        simd::add(x, y, d, errors(n), n, in.op == opcode::sub);
    }

    // Both sides at the common denominator, then one comparison: exact ones need no
    // subtraction and cannot overflow; within-tolerance ones take the difference in
    // registers, in one pass.
    void exec_compare(const instruction& in, std::uint64_t* dw, std::size_t n) {
        const simd::operand a = arg(in.a), b = arg(in.b);
        bits_[static_cast<std::size_t>(in.dst)] = true;
        if (in.t == 0 && compare_with_number(in, a, b, dw, n)) return;
        const simd::operand x = scaled(a, in.ka, tmp_a_, n), y = scaled(b, in.kb, tmp_b_, n);
        if (in.t == 0) return simd::compare_bits(simd::kind_of(in.op), x, y, 0, dw, n);  // (either width)
        simd::within(in.op, x, y, in.t, dw, errors(n), n);
    }

    // The rest (mul, neg, abs, min, max) through the shared scalar kernel.
    void exec_scalar(const instruction& in, std::int64_t* d, std::size_t n) {
        const simd::operand a = arg(in.a), b = arg(in.b);
        std::uint64_t* e = errors(n);
        for (std::size_t i = 0; i < n; ++i) {
            bool o = false;
            d[i] = kernel::apply(in, a ? a[i] : 0, b ? b[i] : 0, o);
            e[i >> 6] |= std::uint64_t(o) << (i & 63);
        }
    }

    // One rule's masks over a chunk (bit i = row c0 + 64w + i). They point at the shared
    // zero words unless some row of this chunk has the property (the usual case:
    // complete columns, no level restriction, no overflow).
    struct chunk_masks {
        std::uint64_t skip_w[words], level_w[words];
        const std::uint64_t* skip = nullptr;   // skipped for blanks
        const std::uint64_t* level = nullptr;  // skipped for the unit's level
        const std::uint64_t* errs = nullptr;   // overflowed
        const std::uint64_t* res = nullptr;    // the rule holds
        std::size_t nw = 0;                    // words
        std::uint64_t last_valid = 0;          // the rows of the last word
    };

    // The rows skipped for blanks under the rule's missing strategy.
    const std::uint64_t* skip_words(const rule_plan& p, const checked_rule& c, std::size_t c0, std::size_t n,
                                    std::uint64_t* skip_w) const {
        if (c.missing == missing_strategy::never_skip || c.refs.empty() || !p.may_skip) return zeros_;
        const std::size_t nw = (n + 63) / 64;
        const bool any = c.missing == missing_strategy::skip_if_any_missing;
        std::uint64_t m[words];
        std::fill(skip_w, skip_w + nw, any ? std::uint64_t(0) : ~std::uint64_t(0));
        for (const auto& [src, f] : c.refs) {
            missing_words(src, f, c0, n, m);
            for (std::size_t w = 0; w < nw; ++w) skip_w[w] = any ? (skip_w[w] | m[w]) : (skip_w[w] & m[w]);
        }
        if (n % 64) skip_w[n / 64] &= (std::uint64_t(1) << (n % 64)) - 1;
        return skip_w;
    }

    // The rows whose unit is not at a level the rule is restricted to.
    const std::uint64_t* level_words(const compiled_rule& rule, std::size_t c0, std::size_t n, std::uint64_t* level_w) const {
        const auto& lv = rule.def().levels;
        if (lv.empty()) return zeros_;
        std::fill(level_w, level_w + (n + 63) / 64, std::uint64_t(0));
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t row = c0 + i;
            const bool ok = row < opt_.levels.size() && std::find(lv.begin(), lv.end(), opt_.levels[row]) != lv.end();
            if (!ok) level_w[i >> 6] |= std::uint64_t(1) << (i & 63);
        }
        return level_w;
    }

    // Runs one rule over a chunk and tallies (and lists) its outcomes.
    void run_rule(const rule_plan& p, std::size_t c0, std::size_t n, partial& out) {
        const compiled_rule& rule = rules_[p.rule];
        const checked_rule& c = rule.checked();
        out.counts[p.rule].items += n;
        chunk_masks m;
        m.nw = (n + 63) / 64;
        m.last_valid = n % 64 ? (std::uint64_t(1) << (n % 64)) - 1 : ~std::uint64_t(0);
        m.skip = skip_words(p, c, c0, n, m.skip_w);
        m.level = level_words(rule, c0, n, m.level_w);
        const bool zero_blanks = c.missing != missing_strategy::skip_if_any_missing;
        err_used_ = false;  // most rules cannot overflow: their error flags are never touched
        for (std::size_t at = 0; at < rule.code().size(); ++at) exec(p, at, c0, n, zero_blanks);
        m.res = condition(rule.result_register(), n, scratch_b_);
        m.errs = err_used_ ? err_ : zeros_;
        if (all_passed(m)) {
            out.counts[p.rule].passes += n;
            return;
        }
        tally(p, m, c0, out);
    }

    // Fast path: every row passed and nothing was skipped or overflowed, and passes are
    // not listed. (Bits of the result past row n are garbage: the last word is masked.)
    bool all_passed(const chunk_masks& m) const {
        if (opt_.keep_passes) return false;
        std::uint64_t all = m.res[m.nw - 1] | ~m.last_valid;
        for (std::size_t w = 0; w + 1 < m.nw; ++w) all &= m.res[w];
        std::uint64_t any_skip = 0;
        if (m.skip != zeros_ || m.level != zeros_ || m.errs != zeros_)
            for (std::size_t w = 0; w < m.nw; ++w) any_skip |= m.skip[w] | m.level[w] | m.errs[w];
        return !any_skip && all == ~std::uint64_t(0);
    }

    // Word at a time: passing rows are counted with popcount; only the rows that did
    // not pass (about 1% in real data) are visited one by one.
    void tally(const rule_plan& p, const chunk_masks& m, std::size_t c0, partial& out) const {
        rule_counts& cnt = out.counts[p.rule];
        const simd::operand lv = arg(p.lhs), rv = arg(p.rhs);
        std::uint64_t passed[words];
        for (std::size_t w = 0; w < m.nw; ++w) passed[w] = m.res[w] & ~(m.errs[w] | m.skip[w] | m.level[w]);
        passed[m.nw - 1] &= m.last_valid;
        cnt.passes += simd::popcount(passed, m.nw);
        for (std::size_t w = 0; w < m.nw; ++w) {
            const std::uint64_t valid = w + 1 < m.nw ? ~std::uint64_t(0) : m.last_valid;
            for (std::uint64_t rest = opt_.keep_passes ? valid : valid & ~passed[w]; rest; rest &= rest - 1) {
                const int b = __builtin_ctzll(rest);
                const std::size_t i = w * 64 + static_cast<std::size_t>(b);
                const auto [st, why] = outcome(m, w, std::uint64_t(1) << b, valid);
                if (st == status::skipped) ++cnt.skipped;
                else if (st == status::error) ++cnt.errors;
                else if (st == status::fail) ++cnt.fails;  // (passes are counted above)
                if (st == status::skipped && !opt_.keep_skipped) continue;
                out.row.push_back(static_cast<std::uint32_t>(c0 + i));
                out.rule.push_back(static_cast<std::uint32_t>(p.rule));
                out.st.push_back(st);
                out.why.push_back(why);
                out.lhs.push_back(lv && st != status::skipped ? lv[i] : 0);
                out.rhs.push_back(rv && st != status::skipped ? rv[i] : 0);
            }
        }
    }

    // One row's outcome (its bit in word w), in order of precedence.
    static std::pair<status, reason> outcome(const chunk_masks& m, std::size_t w, std::uint64_t bit, std::uint64_t valid) {
        if (m.level[w] & bit) return {status::skipped, reason::level};
        if (m.skip[w] & bit) return {status::skipped, reason::missing};
        if (m.errs[w] & bit) return {status::error, reason::overflow};
        if (m.res[w] & valid & bit) return {status::pass, reason::none};  // keep_passes only
        return {status::fail, reason::none};
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
    std::vector<rule_plan> plans_;           // one per rule run, in order
    std::vector<std::uint64_t> shared_;      // bit words of the shared comparisons, `words` each
    std::vector<std::size_t> shared_chunk_;  // first row of the chunk each slot holds
    std::vector<char> bits_, is_const_;      // per register: holds bit words; is a constant
    std::uint64_t scratch_a_[words], scratch_b_[words];
    const std::uint64_t zeros_[words] = {};
    std::int64_t in_k(int r) const {
        return static_cast<const std::int64_t*>(ptr_[static_cast<std::size_t>(r)])[0];
    }                                           // a constant's value
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

// Appends `from` to `to`.
template <class T>
void append(std::vector<T>& to, const std::vector<T>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

// v in the order `order`.
template <class T>
std::vector<T> permuted(const std::vector<T>& v, const std::vector<std::size_t>& order) {
    std::vector<T> out;
    out.reserve(order.size());
    for (std::size_t i : order) out.push_back(v[i]);
    return out;
}

// The threads' parts as one result: tallies added, listed pairs in (row, rule) order,
// the natural reading order of a violations table.
batch_result merge(const std::vector<partial>& parts, std::size_t rules, std::size_t rows) {
    batch_result all;
    all.counts.assign(rules, rule_counts());
    std::size_t total = 0;
    for (const auto& p : parts) total += p.row.size();
    all.row.reserve(total);
    for (const auto& p : parts) {
        for (std::size_t r = 0; r < rules; ++r) {
            all.counts[r].items += p.counts[r].items;
            all.counts[r].passes += p.counts[r].passes;
            all.counts[r].fails += p.counts[r].fails;
            all.counts[r].skipped += p.counts[r].skipped;
            all.counts[r].errors += p.counts[r].errors;
        }
        append(all.row, p.row);
        append(all.rule, p.rule);
        append(all.st, p.st);
        append(all.why, p.why);
        append(all.lhs, p.lhs);
        append(all.rhs, p.rhs);
    }
    std::vector<std::size_t> order(total);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return all.row[a] != all.row[b] ? all.row[a] < all.row[b] : all.rule[a] < all.rule[b];
    });
    batch_result out;
    out.rows = rows;
    out.counts = std::move(all.counts);
    out.row = permuted(all.row, order);
    out.rule = permuted(all.rule, order);
    out.st = permuted(all.st, order);
    out.why = permuted(all.why, order);
    out.lhs = permuted(all.lhs, order);
    out.rhs = permuted(all.rhs, order);
    return out;
}

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
    // Threads take blocks of chunks in turn rather than fixed halves: on a shared
    // machine one core is often slowed for milliseconds, and the other then does more.
    // Below a few chunks per thread, a thread costs more than it saves.
    constexpr std::size_t block = 4 * chunk;
    const unsigned threads =
        detail::thread_count(opt.threads > 0 ? static_cast<unsigned>(opt.threads) : 0, std::max<std::size_t>(1, n / block));
    std::vector<partial> parts(threads);
    std::vector<std::unique_ptr<vm>> machines(threads);  // made by the thread that runs it
    for (auto& p : parts) p.counts.assign(rules.size(), rule_counts());
    detail::parallel_for((n + block - 1) / block, threads, [&](std::size_t task, unsigned t) {
        if (!machines[t]) machines[t] = std::make_unique<vm>(rules, batch, opt, which);
        machines[t]->run(task * block, std::min(n, (task + 1) * block), parts[t]);
    });
    return merge(parts, rules.size(), n);
}

}  // namespace rules
}  // namespace unionstat
