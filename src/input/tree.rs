//! The scenario file as a tree of values that remember where they came from (file, line and column, or
//! a `--set` override), and a reader over that tree that turns every mistake into one friendly error
//! naming the file, the position, the dotted key and what would be valid.
//!
//! We keep our own tree (instead of deriving serde structs) because every error, including semantic
//! ones found after parsing ("bandwidth must be > 0"), must point at the line that caused it, and
//! overrides from the command line must say that they were the cause.

use crate::names::suggest;
use crate::units::{self, WriteRate};
use std::fmt;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    File {
        line: usize,
        col: usize,
    },
    Override(String),
    /// Another command-line argument, written out with its flag (e.g. `--sweep KEY=A,B`).
    Arg(String),
    Missing,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub entries: Vec<(String, Node)>,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// One error in a scenario (or in an override of it).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub origin: Origin,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { line, col } => write!(f, "{}:{}:{}: ", self.file, line, col)?,
            Origin::Override(arg) => write!(f, "{} (from --set {}): ", self.file, arg)?,
            Origin::Arg(arg) => write!(f, "{} (from {}): ", self.file, arg)?,
            Origin::Missing => write!(f, "{}: ", self.file)?,
        }
        if self.key.is_empty() { write!(f, "{}", self.message) } else { write!(f, "key `{}`: {}", self.key, self.message) }
    }
}

impl std::error::Error for ConfigError {}

/// Line and column (1-based) of byte offsets in a text, from the offsets where its lines start,
/// found once (a scenario of thousands of VMs has tens of thousands of positions to place).
struct Lines {
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { starts, len: text.len() }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }
}

/// Parse TOML text into a tree whose nodes know their line and column.
pub fn parse(file: &str, text: &str) -> Result<Node, ConfigError> {
    use toml::de::{DeTable, DeValue};
    let lines = Lines::new(text);
    let root = DeTable::parse(text).map_err(|e| {
        let origin = e.span().map_or(Origin::Missing, |s| {
            let (line, col) = lines.line_col(s.start);
            Origin::File { line, col }
        });
        let message = e.message().trim();
        // toml says only "duplicate key": name it (the span is the repeated key) and say what to do.
        let duplicate = e.span().and_then(|s| text.get(s)).map(|k| k.trim().trim_matches('"')).filter(|k| !k.is_empty());
        match duplicate {
            Some(key) if message.starts_with("duplicate key") => ConfigError {
                file: file.to_string(),
                origin,
                key: match e.span().and_then(|sp| table_above(text, sp.start)) {
                    Some(table) => format!("{table}.{key}"),
                    None => key.to_string(),
                },
                message: "is given twice in the same table; keep one".into(),
            },
            _ => ConfigError { file: file.to_string(), origin, key: String::new(), message: format!("not valid TOML: {message}") },
        }
    })?;

    fn conv(lines: &Lines, file: &str, path: &str, span: std::ops::Range<usize>, v: &DeValue<'_>) -> Result<Node, ConfigError> {
        let (line, col) = lines.line_col(span.start);
        let origin = Origin::File { line, col };
        let value = match v {
            DeValue::String(s) => Value::Str(s.to_string()),
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                match i64::from_str_radix(&digits, i.radix()) {
                    Ok(n) => Value::Int(n),
                    Err(_) => {
                        return Err(ConfigError {
                            file: file.to_string(),
                            origin,
                            key: path.to_string(),
                            message: format!(
                                "the integer {} is out of range: TOML integers are 64-bit, from {} to {}",
                                i.as_str(),
                                i64::MIN,
                                i64::MAX
                            ),
                        });
                    }
                }
            }
            DeValue::Float(x) => {
                let s = x.as_str().replace('_', "");
                let f = match s.as_str() {
                    "inf" | "+inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" | "+nan" | "-nan" => f64::NAN,
                    other => other.parse().unwrap_or(f64::NAN),
                };
                Value::Float(f)
            }
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::Datetime(d.to_string()),
            DeValue::Array(a) => {
                let mut out = Vec::new();
                for (n, item) in a.iter().enumerate() {
                    out.push(conv(lines, file, &format!("{path}.{n}"), item.span(), item.get_ref())?);
                }
                Value::Array(out)
            }
            DeValue::Table(t) => {
                let mut out = Table::default();
                for (k, v) in t {
                    let key = if path.is_empty() { k.get_ref().to_string() } else { format!("{path}.{}", k.get_ref()) };
                    let node = conv(lines, file, &key, k.span(), v.get_ref())?;
                    out.entries.push((k.get_ref().to_string(), node));
                }
                Value::Table(out)
            }
        };
        Ok(Node { value, origin })
    }
    let span = root.span();
    let mut node = conv(&lines, file, "", span, &DeValue::Table(root.into_inner()))?;
    node.origin = Origin::File { line: 1, col: 1 };
    Ok(node)
}

/// Apply `KEY=VALUE` (a dotted path; numeric parts index arrays) to the tree. The value is read as a
/// TOML value when it is one (`5`, `true`, `"1 Gbit/s"`, `[1, 2]`) and as a plain string otherwise,
/// so `--set network.bandwidth="1 Gbit/s"` works whether or not the shell kept the quotes.
pub fn apply_override(root: &mut Node, file: &str, arg: &str) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: file.to_string(),
        origin: Origin::Override(arg.to_string()),
        key: key.to_string(),
        message,
    };
    let Some((key, raw)) = arg.split_once('=') else {
        return Err(err("", "expected KEY=VALUE, e.g. --set network.bandwidth=\"1 Gbit/s\"".into()));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|p| p.is_empty()) {
        return Err(err(key, "the key must be a dotted path such as workload.write_rate".into()));
    }
    let origin = Origin::Override(arg.to_string());
    let value = parse_override_value(raw.trim(), &origin);
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let here = parts[..=i].join(".");
        match &mut cur.value {
            Value::Table(t) => {
                if last {
                    if let Some(n) = t.get_mut(part) {
                        *n = value;
                    } else {
                        t.entries.push((part.to_string(), value));
                    }
                    return Ok(());
                }
                if t.get(part).is_none() {
                    let child = Node { value: Value::Table(Table::default()), origin: origin.clone() };
                    t.entries.push((part.to_string(), child));
                }
                cur = t.get_mut(part).expect("just inserted");
            }
            Value::Array(a) => {
                let idx: usize = part.parse().map_err(|_| {
                    err(&here, format!("`{}` is an array: index it with a number, e.g. {}.0", parts[..i].join("."), parts[..i].join(".")))
                })?;
                let len = a.len();
                let Some(n) = a.get_mut(idx) else {
                    return Err(err(&here, format!("index {idx} is out of range (the array has {len} entries)")));
                };
                if last {
                    *n = value;
                    return Ok(());
                }
                cur = n;
            }
            other => {
                return Err(err(&here, format!("`{}` is {}, not a table", parts[..i].join("."), other.type_name())));
            }
        }
    }
    Ok(())
}

/// A command-line value: a TOML value when it is one, else the plain string.
pub fn parse_override_value(raw: &str, origin: &Origin) -> Node {
    let wrapped = format!("v = {raw}");
    if let Ok(n) = parse("--set", &wrapped)
        && let Value::Table(mut t) = n.value
        && let Some(mut v) = t.remove("v")
    {
        set_origin(&mut v, origin);
        return v;
    }
    Node { value: Value::Str(raw.to_string()), origin: origin.clone() }
}

fn set_origin(n: &mut Node, origin: &Origin) {
    n.origin = origin.clone();
    match &mut n.value {
        Value::Array(a) => a.iter_mut().for_each(|c| set_origin(c, origin)),
        Value::Table(t) => t.entries.iter_mut().for_each(|(_, c)| set_origin(c, origin)),
        _ => {}
    }
}

/// The `[table]` or `[[table]]` header above byte `offset`, if any (for naming a repeated key).
fn table_above(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let before = &before[..before.rfind('\n').map_or(0, |i| i + 1)];
    let line = before.lines().rev().map(str::trim).find(|l| l.starts_with('['))?;
    let name = line.trim_start_matches('[').split(']').next()?.trim();
    (!name.is_empty()).then(|| name.replace([' ', '"'], ""))
}

/// Digits with an optional sign and `_` separators: an integer, whatever its size.
fn is_integer_text(s: &str) -> bool {
    let d = s.trim().trim_start_matches(['+', '-']);
    d.bytes().any(|b| b.is_ascii_digit()) && d.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// Reads the keys of one table; remembers which keys were asked for so that `finish` can reject the
/// others with a suggestion.
pub struct TableReader<'a> {
    file: &'a str,
    path: String,
    origin: Origin,
    table: &'a Table,
    known: Vec<&'static str>,
}

impl<'a> TableReader<'a> {
    pub fn root(file: &'a str, node: &'a Node) -> Result<Self, ConfigError> {
        Self::at(file, String::new(), node)
    }

    /// A reader for a table found at dotted `path` (messages name the full path).
    pub fn at(file: &'a str, path: String, node: &'a Node) -> Result<Self, ConfigError> {
        match &node.value {
            Value::Table(table) => Ok(TableReader { file, path, origin: node.origin.clone(), table, known: Vec::new() }),
            other => Err(ConfigError {
                file: file.to_string(),
                origin: node.origin.clone(),
                key: path,
                message: format!("expected a table, found {}", other.type_name()),
            }),
        }
    }

    /// The table as written (for positions of keys read elsewhere).
    pub fn raw(&self) -> &'a Table {
        self.table
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn file(&self) -> &'a str {
        self.file
    }

    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{}", self.path, key) }
    }

    /// An error about a key of this table (at the key's position if present, else the table's).
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let origin = self.table.get(key).map_or_else(|| self.origin.clone(), |n| n.origin.clone());
        ConfigError { file: self.file.to_string(), origin, key: self.key_path(key), message: message.into() }
    }

    pub fn has(&mut self, key: &'static str) -> bool {
        self.known.push(key);
        self.table.get(key).is_some()
    }

    pub fn node(&mut self, key: &'static str) -> Option<&'a Node> {
        self.known.push(key);
        self.table.get(key)
    }

    /// Whether `key` holds the word `"none"`: how an optional cap or mechanism that a file or a
    /// `[migration]` default turned on is turned off again (`--set migration.max_bandwidth=none`),
    /// since an override cannot remove a key.
    pub fn is_none(&mut self, key: &'static str) -> bool {
        matches!(self.node(key).map(|n| &n.value), Some(Value::Str(s)) if s == "none")
    }

    /// Mark keys as valid here without reading them (e.g. `[reference]`, read by `validate`).
    pub fn allow(&mut self, keys: &[&'static str]) {
        self.known.extend_from_slice(keys);
    }

    fn typed<T>(
        &mut self,
        key: &'static str,
        what: &str,
        f: impl FnOnce(&Value) -> Option<Result<T, String>>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(node) = self.node(key) else { return Ok(None) };
        match f(&node.value) {
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(msg)) => Err(self.error(key, msg)),
            // `--set seed=99999999999999999999` is not a TOML integer, so it arrives as a string.
            None => match &node.value {
                Value::Str(s) if is_integer_text(s) => {
                    Err(self
                        .error(key, format!("{s} is out of range: expected {what}, and whole numbers are at most {} (2^63 - 1)", i64::MAX)))
                }
                other => Err(self.error(key, format!("expected {what}, found {}", other.type_name()))),
            },
        }
    }

    pub fn string(&mut self, key: &'static str) -> Result<Option<String>, ConfigError> {
        self.typed(key, "a string", |v| match v {
            Value::Str(s) => Some(Ok(s.clone())),
            _ => None,
        })
    }

    pub fn bool(&mut self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        self.typed(key, "true or false", |v| match v {
            Value::Bool(b) => Some(Ok(*b)),
            _ => None,
        })
    }

    pub fn uint(&mut self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        self.typed(key, "a whole number >= 0", |v| match v {
            Value::Int(i) if *i >= 0 => Some(Ok(*i as u64)),
            Value::Int(i) => Some(Err(format!("{i} is negative; expected a whole number >= 0"))),
            _ => None,
        })
    }

    pub fn float(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        self.typed(key, "a number", |v| match v {
            Value::Int(i) => Some(Ok(*i as f64)),
            Value::Float(f) if f.is_finite() => Some(Ok(*f)),
            Value::Float(f) => Some(Err(format!("{f} is not a finite number"))),
            _ => None,
        })
    }

    /// A share between 0 and 1 inclusive.
    pub fn fraction(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        match self.float(key)? {
            Some(f) if !(0.0..=1.0).contains(&f) => Err(self.error(key, format!("{f} is not a share between 0 and 1 (e.g. 0.25)"))),
            other => Ok(other),
        }
    }

    /// A non-empty list of shares between 0 and 1 (`[0.2, 0.9, 0]`); an error names the element.
    pub fn fractions(&mut self, key: &'static str) -> Result<Option<Vec<f64>>, ConfigError> {
        let Some(node) = self.node(key) else { return Ok(None) };
        let Value::Array(items) = &node.value else {
            return Err(
                self.error(key, format!("expected a list of shares between 0 and 1, e.g. [0.2, 0.9, 0], found {}", node.value.type_name()))
            );
        };
        if items.is_empty() {
            return Err(self.error(key, "the list is empty; give at least one share between 0 and 1, e.g. [0.2, 0.9, 0]"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.value {
                Value::Int(v) if (0..=1).contains(v) => Ok(*v as f64),
                Value::Float(f) if (0.0..=1.0).contains(f) => Ok(*f),
                Value::Int(_) | Value::Float(_) => {
                    Err(self.error_at(key, &n.origin, format!("element {i} is not a share between 0 and 1 (e.g. 0.25)")))
                }
                other => {
                    Err(self.error_at(key, &n.origin, format!("element {i} is {}, expected a share between 0 and 1", other.type_name())))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn unit<T>(
        &mut self,
        key: &'static str,
        example: &str,
        parse: impl FnOnce(&str) -> Result<T, units::UnitError>,
    ) -> Result<Option<T>, ConfigError> {
        let ex = example.to_string();
        self.typed(key, &format!("a string with a unit, e.g. \"{example}\""), move |v| match v {
            Value::Str(s) => Some(parse(s).map_err(|e| e.message)),
            Value::Int(_) | Value::Float(_) => {
                Some(Err(format!("a bare number has no unit; write it as a string with a unit, e.g. \"{ex}\"")))
            }
            _ => None,
        })
    }

    pub fn size(&mut self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        self.unit(key, "8 GiB", units::parse_size)
    }

    pub fn rate(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        self.unit(key, "10 Gbit/s", units::parse_rate)
    }

    /// A rate that must be strictly positive (a bandwidth).
    pub fn positive_rate(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        match self.rate(key)? {
            Some(r) if r <= 0.0 => Err(self.error(key, "must be greater than zero, e.g. \"10 Gbit/s\"")),
            other => Ok(other),
        }
    }

    pub fn write_rate(&mut self, key: &'static str) -> Result<Option<WriteRate>, ConfigError> {
        self.unit(key, "20000 pages/s", units::parse_write_rate)
    }

    pub fn duration(&mut self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        self.unit(key, "300 ms", units::parse_duration)
    }

    pub fn table(&mut self, key: &'static str) -> Result<Option<TableReader<'a>>, ConfigError> {
        let path = self.key_path(key);
        let file = self.file;
        match self.node(key) {
            None => Ok(None),
            Some(n) => TableReader::at(file, path, n).map(Some),
        }
    }

    /// An array of tables (`[[hosts]]`), each read with its index in the path (`hosts.0`).
    pub fn tables(&mut self, key: &'static str) -> Result<Option<Vec<TableReader<'a>>>, ConfigError> {
        let path = self.key_path(key);
        let file = self.file;
        let Some(node) = self.node(key) else { return Ok(None) };
        let Value::Array(items) = &node.value else {
            return Err(self.error(key, format!("expected an array of tables ([[{key}]]), found {}", node.value.type_name())));
        };
        items.iter().enumerate().map(|(i, n)| TableReader::at(file, format!("{path}.{i}"), n)).collect::<Result<Vec<_>, _>>().map(Some)
    }

    /// Either one string or an array of strings.
    pub fn strings(&mut self, key: &'static str) -> Result<Option<Vec<(String, Origin)>>, ConfigError> {
        let Some(node) = self.node(key) else { return Ok(None) };
        match &node.value {
            Value::Str(s) => Ok(Some(vec![(s.clone(), node.origin.clone())])),
            Value::Array(items) => items
                .iter()
                .map(|n| match &n.value {
                    Value::Str(s) => Ok((s.clone(), n.origin.clone())),
                    other => Err(self.error(key, format!("expected strings in the list, found {}", other.type_name()))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            other => Err(self.error(key, format!("expected a string or a list of strings, found {}", other.type_name()))),
        }
    }

    /// An error at a specific node (e.g. one element of a list).
    pub fn error_at(&self, key: &str, origin: &Origin, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.to_string(), origin: origin.clone(), key: self.key_path(key), message: message.into() }
    }

    /// Reject keys that were never asked for, suggesting the nearest known one.
    pub fn finish(self) -> Result<(), ConfigError> {
        for (k, n) in &self.table.entries {
            if self.known.iter().any(|kk| kk == k) {
                continue;
            }
            let mut known: Vec<&str> = self.known.clone();
            known.sort();
            known.dedup();
            let hint = match suggest(k, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            let where_ = if self.path.is_empty() { "at the top level".to_string() } else { format!("in [{}]", self.path) };
            return Err(ConfigError {
                file: self.file.to_string(),
                origin: n.origin.clone(),
                key: self.key_path(k),
                message: format!("unknown key {where_}; {hint}valid keys here: {}", known.join(", ")),
            });
        }
        Ok(())
    }
}

/// Enumerated string values (`kind = "uniform"`) with a suggestion on a typo.
pub fn choice<T: Copy>(r: &TableReader<'_>, key: &str, value: &str, options: &[(&'static str, T)]) -> Result<T, ConfigError> {
    if let Some((_, v)) = options.iter().find(|(n, _)| *n == value) {
        return Ok(*v);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let hint = suggest(value, names.iter().copied()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
    Err(r.error(key, format!("\"{value}\" is not valid; {hint}expected one of: {}", names.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let text = "a = 1\n[net]\nbandwidth = \"x\"\n";
        let root = parse("f.toml", text).unwrap();
        let mut r = TableReader::root("f.toml", &root).unwrap();
        let mut net = r.table("net").unwrap().unwrap();
        let e = net.rate("bandwidth").unwrap_err();
        assert_eq!(e.origin, Origin::File { line: 3, col: 1 });
        assert_eq!(e.key, "net.bandwidth");
        assert!(e.to_string().starts_with("f.toml:3:1: key `net.bandwidth`"), "{e}");
    }

    #[test]
    fn unknown_key_suggests_nearest() {
        let text = "[network]\nbandwith = \"1 Gbit/s\"\n";
        let root = parse("f.toml", text).unwrap();
        let mut r = TableReader::root("f.toml", &root).unwrap();
        let mut net = r.table("network").unwrap().unwrap();
        net.rate("bandwidth").unwrap();
        net.duration("latency").unwrap();
        let e = net.finish().unwrap_err();
        assert!(e.message.contains("did you mean `bandwidth`"), "{e}");
        assert_eq!(e.origin, Origin::File { line: 2, col: 1 });
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse("f.toml", "a = \n").unwrap_err();
        assert!(matches!(e.origin, Origin::File { line: 1, .. }), "{e:?}");
        assert!(e.message.contains("not valid TOML"));
    }

    #[test]
    fn override_sets_nested_and_parses_values() {
        let mut root = parse("f.toml", "[network]\nbandwidth = \"1 Gbit/s\"\n").unwrap();
        apply_override(&mut root, "f.toml", "network.bandwidth=10 Gbit/s").unwrap();
        apply_override(&mut root, "f.toml", "seed=7").unwrap();
        apply_override(&mut root, "f.toml", "workload.kind=\"idle\"").unwrap();
        let mut r = TableReader::root("f.toml", &root).unwrap();
        assert_eq!(r.uint("seed").unwrap(), Some(7));
        let mut net = r.table("network").unwrap().unwrap();
        assert_eq!(net.rate("bandwidth").unwrap(), Some(1.25e9));
        let mut wl = r.table("workload").unwrap().unwrap();
        assert_eq!(wl.string("kind").unwrap().as_deref(), Some("idle"));
    }

    #[test]
    fn override_errors_name_the_argument() {
        let mut root = parse("f.toml", "seed = 1\n").unwrap();
        let e = apply_override(&mut root, "f.toml", "seed.x=1").unwrap_err();
        assert!(e.to_string().contains("--set seed.x=1"), "{e}");
        assert!(apply_override(&mut root, "f.toml", "noequals").is_err());
    }

    #[test]
    fn line_and_column_of_every_offset() {
        let text = "ab\n\ncd\n";
        let lines = Lines::new(text);
        let naive = |o: usize| {
            let before = &text[..o];
            (before.matches('\n').count() + 1, before.rfind('\n').map_or(o, |i| o - i - 1) + 1)
        };
        for o in 0..=text.len() {
            assert_eq!(lines.line_col(o), naive(o), "offset {o}");
        }
    }
}
