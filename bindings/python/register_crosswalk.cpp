#include "prelude.hpp"

using namespace unionstat;

namespace {

py::dict unmapped_to_python(const unmapped_field& u) {
    py::dict d;
    d["code"] = u.code;
    d["key"] = u.key;
    d["label"] = u.label;
    d["reason"] = u.reason;
    d["note"] = u.note;
    d["values"] = u.values;
    return d;
}

py::list unmapped_list(const std::vector<unmapped_field>& list) {
    py::list out;
    for (const auto& u : list) out.append(unmapped_to_python(u));
    return out;
}

py::dict column_to_python(const concept_column& c) {
    const std::size_t n = c.values.size();
    py::array_t<std::int64_t> values(static_cast<py::ssize_t>(n));
    py::array_t<bool> missing(static_cast<py::ssize_t>(n));
    auto* v = values.mutable_data();
    auto* mk = missing.mutable_data();
    py::list texts;
    const field_def like = c.as_field();
    for (std::size_t i = 0; i < n; ++i) {
        mk[i] = c.is_missing(i);
        v[i] = mk[i] ? 0 : c.values[i];
        texts.append(mk[i] ? py::none() : py::cast(format_raw(like, c.values[i])));
    }
    py::dict d;
    d["key"] = c.key;
    d["label"] = c.label;
    d["label_en"] = c.label_en;
    d["type"] = to_string(c.type);
    d["unit"] = c.unit;
    d["scale"] = c.scale;
    d["derived"] = c.derived;
    d["values"] = values;
    d["missing"] = missing;
    d["texts"] = texts;
    return d;
}

py::dict result_to_python(crosswalk_result&& r) {
    py::dict d;
    d["source"] = r.source_form;
    d["target"] = r.batch.form().id;
    py::list extra;
    for (const auto& c : r.extra) extra.append(column_to_python(c));
    d["extra"] = extra;
    py::list mapped;
    for (const auto& m : r.mapped) {
        py::dict x;
        x["key"] = m.key;
        x["target_code"] = m.target_code;
        x["method"] = to_string(m.method);
        x["source_codes"] = m.source_codes;
        x["note"] = m.note;
        mapped.append(x);
    }
    d["mapped"] = mapped;
    d["unmapped"] = unmapped_list(r.unmapped);
    d["unfilled"] = unmapped_list(r.unfilled);
    d["batch"] = std::make_shared<report_batch>(std::move(r.batch));
    return d;
}

}  // namespace

void register_crosswalk(py::module_& m) {
    py::class_<crosswalk, std::shared_ptr<crosswalk>>(
        m, "Crosswalk", "How the concepts of one form family relate across its versions (schemas/crosswalks/<family>.yaml).")
        .def_readonly("family", &crosswalk::family, "The form family the crosswalk maps (songnuan, bangfu).")
        .def_readonly("forms", &crosswalk::forms, "The ids of the form versions it covers.")
        .def_readonly("note", &crosswalk::note, "What the crosswalk says about the family as a whole.")
        .def_readonly("file", &crosswalk::file, "The crosswalk file it was loaded from.")
        .def_property_readonly(
            "sums",
            [](const crosswalk& cw) {
                py::list out;
                for (const auto& s : cw.sums) {
                    py::dict d;
                    d["key"] = s.key;
                    d["label"] = s.label;
                    d["label_en"] = s.label_en;
                    d["parts"] = s.parts;
                    d["note"] = s.note;
                    d["line"] = s.line;
                    out.append(d);
                }
                return out;
            },
            "Sum concepts (a concept that split): dicts of key, label, label_en, parts, note and line.")
        .def_property_readonly(
            "unit_changes",
            [](const crosswalk& cw) {
                py::list out;
                for (const auto& u : cw.unit_changes) {
                    py::dict d;
                    d["key"] = u.key;
                    d["method"] = to_string(u.method);
                    d["note"] = u.note;
                    d["line"] = u.line;
                    out.append(d);
                }
                return out;
            },
            "Concepts printed in different units on different forms: dicts of key, method (rescale or copy), note and line.")
        .def_property_readonly(
            "same",
            [](const crosswalk& cw) {
                py::list out;
                for (const auto& s : cw.same) {
                    py::dict d;
                    d["key"] = s.key;
                    d["aliases"] = s.aliases;
                    d["note"] = s.note;
                    d["line"] = s.line;
                    out.append(d);
                }
                return out;
            },
            "Keys that name one concept: dicts of key, aliases, note and line.")
        .def_property_readonly(
            "only_in",
            [](const crosswalk& cw) {
                py::list out;
                for (const auto& o : cw.only_in) {
                    py::dict d;
                    d["keys"] = o.keys;
                    d["forms"] = o.forms;
                    d["note"] = o.note;
                    d["line"] = o.line;
                    out.append(d);
                }
                return out;
            },
            "Concepts printed only on some forms: dicts of keys, forms, note and line.")
        .def("covers", &crosswalk::covers, py::arg("form_id"), "True when the crosswalk covers the form version of this id.")
        .def("canonical", &crosswalk::canonical, py::arg("key"),
             "The concept key an alias stands for (the key itself when it is no alias).")
        .def(
            "map",
            [](const crosswalk& cw, const report_batch& source, std::shared_ptr<form_schema> target) {
                std::optional<crosswalk_result> r;
                {
                    py::gil_scoped_release release;
                    r.emplace(cw.map(source, std::move(target)));
                }
                return result_to_python(std::move(*r));
            },
            py::arg("source"), py::arg("target"),
            "Maps a batch onto the target form's concepts: a dict with the target batch, extra concept columns, "
            "and the mapped, unmapped and unfilled fields.")
        .def("__repr__", [](const crosswalk& cw) {
            std::string forms;
            for (const auto& f : cw.forms) forms += (forms.empty() ? "" : ", ") + f;
            return "<Crosswalk " + cw.family + ": " + forms + ">";
        });

    m.def(
        "load_crosswalk",
        [](const std::string& path, const schema_registry& forms) {
            return std::const_pointer_cast<crosswalk>(load_crosswalk(path, forms));
        },
        py::arg("path"), py::arg("forms"), "Loads a crosswalk file, checked against the forms; errors name file:line:column.");
    m.def(
        "load_crosswalk_text",
        [](const std::string& text, const schema_registry& forms, const std::string& name) {
            return std::const_pointer_cast<crosswalk>(load_crosswalk_text(text, forms, name));
        },
        py::arg("text"), py::arg("forms"), py::arg("name") = "<string>");
}
