//! Naming many hosts or VMs at once: a name, a rack, or a pattern with `*` (any run of characters)
//! and `?` (one character), as a shell's globs: `host = "rack1-*"` or `rack = ["rack1"]` in a VM
//! group (`group_hosts`), `drain = ["rack1"]` in a plan. A pattern that matches nothing is an error that lists what exists (with a "did you
//! mean" for a near miss), naming the key and its line.

use crate::input::tree::{ConfigError, Origin, TableReader, Value};
use crate::model::scenario::Host;
use crate::names::suggest;

/// Whether `name` matches `pattern` (`*` any run of characters, `?` one; anything else itself).
pub fn glob(pattern: &str, name: &str) -> bool {
    // Bytes when both are ASCII (the common case, and no allocation: a data center's host lists are
    // matched against every pattern); characters otherwise, so `?` takes one character.
    if pattern.is_ascii() && name.is_ascii() {
        return glob_in(pattern.as_bytes(), name.as_bytes(), b'*', b'?');
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    glob_in(&p, &n, '*', '?')
}

fn glob_in<T: PartialEq + Copy>(p: &[T], n: &[T], any: T, one: T) -> bool {
    // Iterative matching with one backtrack point for the last `*` (linear for typical patterns).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == one || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == any {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == any)
}

pub fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// A short list of names for a message: the first few, then how many more.
pub fn some_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = names.collect();
    if all.len() <= 12 { all.join(", ") } else { format!("{}, ... ({} in all)", all[..10].join(", "), all.len()) }
}

/// The error for a name or pattern that matched nothing among `names` (of `what`: "host", "VM";
/// "host or rack" lists "hosts and racks").
pub fn no_match<'a>(
    t: &TableReader<'_>,
    key: &str,
    origin: &Origin,
    what: &str,
    given: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> ConfigError {
    let listed = if what == "host or rack" { "hosts and racks".to_string() } else { format!("{what}s") };
    let hint = if is_pattern(given) {
        String::new()
    } else {
        suggest(given, names.clone()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "))
    };
    let kind = if is_pattern(given) { "matches no" } else { "is not a" };
    t.error_at(key, origin, format!("\"{given}\" {kind} {what}; {hint}{listed}: {}", some_names(names)))
}

/// The hosts (by index, in host order, each once) that `items` name: each item is a host name, a
/// rack name, or a pattern over host and rack names. Switches are never selected.
pub fn hosts(t: &TableReader<'_>, key: &str, items: &[(String, Origin)], all: &[Host]) -> Result<Vec<usize>, ConfigError> {
    let mut chosen = vec![false; all.len()];
    for (item, origin) in items {
        let mut any = false;
        for (i, h) in all.iter().enumerate() {
            let rack = h.rack.as_deref().is_some_and(|r| glob(item, r));
            if !h.switch && (glob(item, &h.name) || rack) {
                chosen[i] = true;
                any = true;
            }
        }
        if !any {
            let mut names: Vec<&str> = all.iter().filter(|h| !h.switch).map(|h| h.name.as_str()).collect();
            let mut racks: Vec<&str> = all.iter().filter_map(|h| h.rack.as_deref()).collect();
            racks.dedup();
            racks.append(&mut names);
            return Err(no_match(t, key, origin, "host or rack", item, racks.iter().copied()));
        }
    }
    Ok((0..all.len()).filter(|&i| chosen[i]).collect())
}

/// The VMs (by index, in VM order, each once) that `items` name, by name or pattern.
pub fn vms<'a>(
    t: &TableReader<'_>,
    key: &str,
    items: &[(String, Origin)],
    names: impl Iterator<Item = &'a str> + Clone,
) -> Result<Vec<usize>, ConfigError> {
    let list: Vec<&str> = names.clone().collect();
    let mut chosen = vec![false; list.len()];
    for (item, origin) in items {
        let mut any = false;
        for (i, n) in list.iter().enumerate() {
            if glob(item, n) {
                chosen[i] = true;
                any = true;
            }
        }
        if !any {
            return Err(no_match(t, key, origin, "VM", item, names));
        }
    }
    Ok((0..list.len()).filter(|&i| chosen[i]).collect())
}

/// Looks a host up by name (for a key of a table, at a position), or says there is none.
pub type HostIndex<'h> = dyn Fn(&TableReader<'_>, &str, &str, &Origin) -> Result<usize, ConfigError> + 'h;

/// The hosts a `[[vms]]` entry places its VMs on (its VMs go to them in turn), and the key that
/// said so: `host` (a name; in a group also a pattern such as "rack1-*") or `rack` (rack names or
/// patterns, a group's VMs spread over the racks' hosts).
pub fn group_hosts(
    t: &mut TableReader<'_>,
    group: bool,
    implicit: bool,
    hosts: &[Host],
    host_index: &HostIndex<'_>,
) -> Result<(Vec<usize>, &'static str), ConfigError> {
    let host = t.node("host");
    let racks = t.strings("rack")?;
    match (host, racks) {
        (Some(_), Some(_)) => Err(t.error("rack", "give either host or rack, not both")),
        (Some(n), None) => match &n.value {
            Value::Str(h) if group && is_pattern(h) => {
                let on: Vec<usize> = (0..hosts.len()).filter(|&i| !hosts[i].switch && glob(h, &hosts[i].name)).collect();
                if on.is_empty() {
                    return Err(no_match(t, "host", &n.origin, "host", h, hosts.iter().filter(|x| !x.switch).map(|x| x.name.as_str())));
                }
                Ok((on, "host"))
            }
            Value::Str(h) => Ok((vec![host_index(t, "host", h, &n.origin)?], "host")),
            other => Err(t.error("host", format!("expected a host name, found {}", other.type_name()))),
        },
        (None, Some(racks)) if racks.is_empty() => {
            Err(t.error("rack", "the list is empty: name at least one rack, e.g. rack = [\"rack1\"] (or give host = \"<host name>\")"))
        }
        (None, Some(racks)) => {
            let mut on = Vec::new();
            for (r, origin) in &racks {
                let before = on.len();
                let more: Vec<usize> =
                    (0..hosts.len()).filter(|&i| hosts[i].rack.as_deref().is_some_and(|x| glob(r, x)) && !on.contains(&i)).collect();
                on.extend(more);
                if on.len() == before {
                    let mut names: Vec<&str> = hosts.iter().filter_map(|h| h.rack.as_deref()).collect();
                    names.dedup();
                    return Err(no_match(t, "rack", origin, "rack", r, names.into_iter()));
                }
            }
            Ok((on, "rack"))
        }
        (None, None) if implicit => Ok((vec![0], "host")),
        (None, None) => Err(t.error("host", "every [[vms]] entry needs host = \"<host name>\" (or rack = \"<rack name>\")")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_a_shell_does() {
        assert!(glob("rack1-*", "rack1-h3"));
        assert!(!glob("rack1-*", "rack10-h3"));
        assert!(glob("rack1*", "rack10-h3"));
        assert!(glob("web-?", "web-7") && !glob("web-?", "web-17"));
        assert!(glob("*", "") && glob("a*b*c", "aXbYbZc") && !glob("a*b*c", "aXbYbZ"));
        assert!(glob("db1", "db1") && !glob("db1", "db10"));
        // `?` is one character, not one byte.
        assert!(glob("h?st", "höst") && !glob("h??st", "höst") && glob("*ö*", "höst"));
    }
}
