#include "unionstat/rules/parser.hpp"

#include <algorithm>

#include "unionstat/rules/lexer.hpp"

namespace unionstat {
namespace rules {

namespace {

struct syntax_error {
    int column;
    int length;
    std::string message;
};

class parser {
public:
    parser(std::vector<token> tokens, ast& out) : toks_(std::move(tokens)), out_(out) {}

    int rule() {
        const int r = implication();
        if (peek().kind != token_kind::end) fail(peek(), "unexpected '" + peek().text + "' after a complete rule");
        return r;
    }

private:
    const token& peek() const { return toks_[pos_]; }
    bool is_op(const char* op) const { return peek().kind == token_kind::op && peek().text == op; }
    bool is_word(const char* w) const { return peek().kind == token_kind::word && peek().text == w; }
    const token& take() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

    [[noreturn]] void fail(const token& t, const std::string& message) {
        throw syntax_error{t.column, t.kind == token_kind::end ? 1 : t.length, message};
    }
    void expect_op(const char* op, const std::string& context) {
        if (!is_op(op)) {
            const std::string got = peek().kind == token_kind::end ? "end of rule" : "'" + peek().text + "'";
            fail(peek(), std::string("expected '") + op + "' " + context + ", found " + got);
        }
        take();
    }

    int make(node_kind k, std::vector<int> args, int column, int end_column) {
        int depth = 0;
        for (int a : args) depth = std::max(depth, depth_of(a));
        node n;
        n.kind = k;
        n.args = std::move(args);
        n.column = column;
        n.length = end_column - column;
        return add(std::move(n), depth + 1);
    }
    /// Every node goes through here: the size and the height of the tree are bounded,
    /// not only the nesting of parentheses. The checker, planner and evaluator walk the
    /// tree recursively, so `a + b + … ` with 40,000 terms (a left-leaning chain 40,000
    /// deep) overflowed their stacks; `min()` of 100,000 arguments is work no form needs.
    int add(node n, int depth = 1) {
        // Reported where the parser stands: the operator or argument that crossed the limit.
        if (depth > max_height) {
            throw syntax_error{peek().column, 1,
                               "rule is more than " + std::to_string(max_height) +
                                   " operations deep (a chain of '+' or 'and' counts one level per term); "
                                   "use sum(…) or split the rule"};
        }
        if (out_.nodes.size() >= max_nodes) {
            throw syntax_error{peek().column, 1,
                               "rule has more than " + std::to_string(max_nodes) + " terms; split it into several rules"};
        }
        heights_.push_back(depth);
        return out_.add(std::move(n));
    }
    int depth_of(int i) const { return heights_[static_cast<std::size_t>(i)]; }
    int end_of(int i) const { return out_.nodes[i].column + out_.nodes[i].length; }
    int col(int i) const { return out_.nodes[i].column; }

    /// Nesting limit: a rule nested deeper than this is a mistake, not a formula, and
    /// unbounded recursion would overflow the stack (found by fuzzing).
    static constexpr int max_depth = 200;
    /// Height of the finished tree (every operator counts, parenthesised or not). Python
    /// walks rules recursively too (linear.py, for HiGHS): 256 stays far below its limit.
    static constexpr int max_height = 256;
    /// Nodes in one rule, and arguments of one function call.
    static constexpr std::size_t max_nodes = 10000;
    static constexpr std::size_t max_args = 256;

    struct depth_guard {
        parser& p;
        explicit depth_guard(parser& owner) : p(owner) {
            if (++p.depth_ > max_depth)
                p.fail(p.peek(), "rule is nested more than " + std::to_string(max_depth) + " levels deep");
        }
        ~depth_guard() { --p.depth_; }
    };

    int implication() {
        depth_guard guard(*this);
        if (is_word("if")) {
            const token t = take();
            const int cond = disjunction();
            if (!is_word("then")) {
                const std::string got = peek().kind == token_kind::end ? "end of rule" : "'" + peek().text + "'";
                fail(peek(), "expected 'then' after the condition of 'if', found " + got);
            }
            take();
            const int cons = disjunction();
            return make(node_kind::implies, {cond, cons}, t.column, end_of(cons));
        }
        if (is_word("then")) fail(peek(), "'then' without 'if'");
        return disjunction();
    }

    int disjunction() {
        int l = conjunction();
        while (is_word("or")) {
            take();
            const int r = conjunction();
            l = make(node_kind::logical_or, {l, r}, col(l), end_of(r));
        }
        return l;
    }

    int conjunction() {
        int l = negation();
        while (is_word("and")) {
            take();
            const int r = negation();
            l = make(node_kind::logical_and, {l, r}, col(l), end_of(r));
        }
        return l;
    }

    int negation() {
        depth_guard guard(*this);
        if (is_word("not")) {
            const token t = take();
            const int a = negation();
            return make(node_kind::logical_not, {a}, t.column, end_of(a));
        }
        return comparison();
    }

    int comparison() {
        const int l = additive();
        static const std::pair<const char*, node_kind> ops[] = {{"==", node_kind::eq}, {"!=", node_kind::ne},
                                                                {"<=", node_kind::le}, {">=", node_kind::ge},
                                                                {"<", node_kind::lt},  {">", node_kind::gt}};
        for (const auto& [text, kind] : ops) {
            if (is_op(text)) {
                take();
                const int r = additive();
                for (const auto& [t2, k2] : ops) {
                    (void)k2;
                    if (is_op(t2)) fail(peek(), "comparisons cannot be chained; join them with 'and'");
                }
                return make(kind, {l, r}, col(l), end_of(r));
            }
        }
        return l;
    }

    int additive() {
        int l = multiplicative();
        while (is_op("+") || is_op("-")) {
            const node_kind k = take().text == "+" ? node_kind::add : node_kind::sub;
            const int r = multiplicative();
            l = make(k, {l, r}, col(l), end_of(r));
        }
        return l;
    }

    int multiplicative() {
        int l = unary();
        while (is_op("*") || is_op("/")) {
            const node_kind k = take().text == "*" ? node_kind::mul : node_kind::div;
            const int r = unary();
            l = make(k, {l, r}, col(l), end_of(r));
        }
        return l;
    }

    int unary() {
        depth_guard guard(*this);
        if (is_op("-")) {
            const token t = take();
            const int a = unary();
            return make(node_kind::neg, {a}, t.column, end_of(a));
        }
        return primary();
    }

    int primary() {
        const token t = peek();
        switch (t.kind) {
            case token_kind::number: {
                take();
                node n;
                n.kind = node_kind::number;
                n.value = decimal::parse(t.text, 18);
                n.column = t.column;
                n.length = t.length;
                return add(std::move(n));
            }
            case token_kind::code:
            case token_kind::key: {
                take();
                node n;
                n.kind = node_kind::field;
                n.name = t.text;
                n.column = t.column;
                n.length = t.length;
                return add(std::move(n));
            }
            case token_kind::op:
                if (t.text == "(") {
                    take();
                    const int inner = implication();
                    expect_op(")", "to close '(' at column " + std::to_string(t.column));
                    return inner;
                }
                fail(t, "expected a value, found '" + t.text + "'");
            case token_kind::word: return word();
            case token_kind::end: fail(t, "rule ends where a value was expected");
        }
        fail(t, "unexpected token");
    }

    int word() {
        const token t = take();
        if (t.text == "true" || t.text == "false") {
            node n;
            n.kind = node_kind::boolean;
            n.value = decimal::from_int(t.text == "true" ? 1 : 0);
            n.column = t.column;
            n.length = t.length;
            return add(std::move(n));
        }
        static const std::pair<const char*, node_kind> funcs[] = {{"sum", node_kind::sum},
                                                                  {"abs", node_kind::abs},
                                                                  {"min", node_kind::min},
                                                                  {"max", node_kind::max},
                                                                  {"is_missing", node_kind::is_missing},
                                                                  {"prev", node_kind::prev},
                                                                  {"children_sum", node_kind::children_sum}};
        for (const auto& [name, kind] : funcs) {
            if (t.text != name) continue;
            if (!is_op("(")) fail(peek(), std::string("expected '(' after ") + name);
            take();
            std::vector<int> args;
            if (!is_op(")")) {
                for (;;) {
                    if (args.size() == max_args)
                        fail(peek(), std::string(name) + "() takes at most " + std::to_string(max_args) +
                                         " arguments; use ranges such as sum(01A:09Z) or split the rule");
                    args.push_back(argument());
                    if (!is_op(",")) break;
                    take();
                }
            }
            const token close = peek();
            expect_op(")", std::string("to close ") + name + "(");
            if (kind == node_kind::sum || kind == node_kind::min || kind == node_kind::max) {
                // The checker turns f(a, b, c, …) into a chain of binary nodes, one level per
                // argument: count the height it will have.
                int depth = 0;
                for (int a : args) depth = std::max(depth, depth_of(a));
                node n;
                n.kind = kind;
                n.column = t.column;
                n.length = close.column + 1 - t.column;
                const int height = depth + static_cast<int>(std::max<std::size_t>(args.size(), 1));
                n.args = std::move(args);
                return add(std::move(n), height);
            }
            return make(kind, std::move(args), t.column, close.column + 1);
        }
        static const char* keywords[] = {"and", "or", "not", "if", "then"};
        for (const char* k : keywords)
            if (t.text == k) fail(t, "expected a value, found keyword '" + t.text + "'");
        fail(t, "unknown name '" + t.text +
                    "' (field codes look like 01A, concept keys like workers.total; functions: sum abs min max "
                    "is_missing prev children_sum)");
    }

    int argument() {
        const int a = implication();
        if (is_op(":")) {
            take();
            const int b = primary();
            return make(node_kind::range, {a, b}, col(a), end_of(b));
        }
        return a;
    }

    std::vector<token> toks_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::vector<int> heights_;  // height of each node's subtree, by node index
    ast& out_;
};

}  // namespace

bool parse(std::string_view text, const std::string& rule_id, ast& out, std::vector<diagnostic>& diags) {
    out = ast();
    out.text = std::string(text);
    lex_result lx = lex(text);
    auto report = [&](int column, int length, std::string message) {
        diagnostic d;
        d.rule = rule_id;
        d.text = std::string(text);
        d.column = column;
        d.length = length;
        d.message = std::move(message);
        diags.push_back(std::move(d));
    };
    if (!lx.ok) {
        report(lx.error_column, 1, lx.error);
        return false;
    }
    try {
        parser p(std::move(lx.tokens), out);
        out.root = p.rule();
        return true;
    } catch (const syntax_error& e) {
        report(e.column, e.length, e.message);
        return false;
    } catch (const error& e) {  // a number literal out of range
        report(1, static_cast<int>(text.size()), e.message());
        return false;
    }
}

}  // namespace rules
}  // namespace unionstat
