//! Reading a submitted form as its list of (name, value) pairs: fields that repeat (ticked
//! boxes, the rows of "Add user") keep their order.

/// Every value of the field `name`, trimmed, in order.
pub(crate) fn values(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// The first value of the field `name`, trimmed (empty when absent).
pub(crate) fn value(form: &[(String, String)], name: &str) -> String {
    values(form, name).into_iter().next().unwrap_or_default()
}
