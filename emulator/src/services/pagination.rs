//! The one pagination every list and describe operation uses, whatever its members are called on the wire
//! (`maxResults`/`nextToken` for Batch and ECR, `MaxItems`/`Marker` for Lambda and IAM, `limit`/`position` for API
//! Gateway).
//!
//! Each item comes with a sort key, unique within the listing; the items are served in key order, and the token
//! names the last key a page returned. The next page starts strictly after that key, so items created or deleted
//! between two pages neither repeat nor shift what the client has not seen yet (an offset would). The token is
//! opaque to clients: base64url of a version tag and the key. A token that does not decode is refused, and the
//! service maps [`PageError`] to its own error code and words.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// What a token starts with before it is encoded, so a token from another format is refused rather than misread.
const TOKEN_VERSION: &str = "p1\n";

/// A service's page size: what it serves when the client names none, and the most it accepts (the least is 1).
#[derive(Debug, Clone, Copy)]
pub struct PageSize {
    pub default: usize,
    pub max: usize,
}

/// Why a page cannot be served; each service words it as its own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The page size asked for (as sent) is not a number between 1 and the service's maximum.
    Limit { requested: String, max: usize },
    /// The token is not one this emulator issued.
    Token,
}

impl PageError {
    /// AWS's usual wording for a page size out of range: `1 validation error detected: Value '0' at 'maxItems'
    /// failed to satisfy constraint: Member must have value greater than or equal to 1`. `member` is the input
    /// member as the service names it in messages (`maxItems`, `maxResults`, `limit`). A token error gets a
    /// generic message; services usually word that one themselves.
    pub fn validation_message(&self, member: &str) -> String {
        match self {
            Self::Limit { requested, max } => {
                let constraint = match requested.parse::<i64>() {
                    Ok(n) if n > 1 => format!("Member must have value less than or equal to {max}"),
                    _ => "Member must have value greater than or equal to 1".to_owned(),
                };
                format!(
                    "1 validation error detected: Value '{requested}' at '{member}' failed to satisfy constraint: {constraint}"
                )
            }
            Self::Token => format!("Invalid {member}"),
        }
    }
}

/// One page of a listing and the token for the next, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Serves the page of `items` (each with its sort key, unique within the listing) that follows `token` (none or
/// empty: the first page), at most `limit` items (none: `size.default`). The items need not be sorted.
pub fn page<T>(
    items: Vec<(String, T)>,
    size: PageSize,
    limit: Option<i64>,
    token: Option<&str>,
) -> Result<Page<T>, PageError> {
    let limit = checked_limit(limit, size)?;
    let after = match token {
        None | Some("") => None,
        Some(token) => Some(decode(token).ok_or(PageError::Token)?),
    };
    let window = window(items, limit, after.as_deref());
    let next = match (window.truncated, window.items.last()) {
        (true, Some((last, _))) => Some(encode(last)),
        _ => None,
    };
    Ok(Page { items: window.items.into_iter().map(|(_, item)| item).collect(), next })
}

/// The items of one page with their sort keys, and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<T> {
    pub items: Vec<(String, T)>,
    pub truncated: bool,
}

/// For the services whose markers are not opaque (S3 names the last key, upload id or part number itself): at most
/// `limit` of `items` in key order, strictly after the sort key `after`.
pub fn window<T>(items: Vec<(String, T)>, limit: usize, after: Option<&str>) -> Window<T> {
    let mut items = items;
    items.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut rest = items.into_iter().filter(|(key, _)| after.is_none_or(|after| key.as_str() > after)).peekable();
    let mut served = Vec::with_capacity(limit.min(64));
    while served.len() < limit {
        let Some(item) = rest.next() else { break };
        served.push(item);
    }
    Window { items: served, truncated: rest.peek().is_some() }
}

/// `limit` checked against `size` (none: the default).
fn checked_limit(limit: Option<i64>, size: PageSize) -> Result<usize, PageError> {
    match limit {
        None => Ok(size.default),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=size.max).contains(n))
            .ok_or_else(|| PageError::Limit { requested: n.to_string(), max: size.max }),
    }
}

/// A page size sent as text (a query parameter): a number, or [`PageError::Limit`] naming what was sent.
pub fn limit_param(value: Option<&str>, size: PageSize) -> Result<Option<i64>, PageError> {
    match value {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| PageError::Limit { requested: text.to_owned(), max: size.max }),
    }
}

/// A sort key made of several parts, ordered part by part (`("a", "2") < ("a-b", "1")`): the parts joined by NUL,
/// which sorts before every character a name may hold.
pub fn key(parts: &[&str]) -> String {
    parts.join("\0")
}

/// A number as a sort key part whose text order is its numeric order (negative numbers included).
pub fn number(n: i64) -> String {
    // Shifting by 2^63 maps i64 onto u64 in order; 20 digits hold every u64.
    format!("{:020}", (i128::from(n) - i128::from(i64::MIN)))
}

fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}{key}"))
}

fn decode(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix(TOKEN_VERSION).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: PageSize = PageSize { default: 3, max: 10 };

    fn keyed(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| ((*n).to_owned(), (*n).to_owned())).collect()
    }

    /// Every page of `items` at `limit`, each page's items.
    fn walk(items: &[&str], limit: i64) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = page(keyed(items), SIZE, Some(limit), token.as_deref()).expect("a page");
            pages.push(page.items);
            match page.next {
                Some(next) => token = Some(next),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_cover_everything_once_in_key_order() {
        assert_eq!(walk(&["c", "a", "e", "b", "d"], 2), vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
        assert_eq!(walk(&["a", "b", "c", "d"], 2), vec![vec!["a", "b"], vec!["c", "d"]]);
        assert_eq!(walk(&[], 2), vec![Vec::<String>::new()]);
        let first = page(keyed(&["a", "b", "c", "d"]), SIZE, None, None).expect("a page");
        assert_eq!(first.items, ["a", "b", "c"], "the default size");
    }

    #[test]
    fn an_insert_or_delete_between_pages_neither_repeats_nor_skips() {
        let first = page(keyed(&["b", "d", "f"]), SIZE, Some(2), None).expect("a page");
        assert_eq!(first.items, ["b", "d"]);
        // "a" and "c" were created before the token's key (the client missed them, as on AWS); "e" after it; "d",
        // the token's own item, was deleted.
        let second = page(keyed(&["a", "b", "c", "e", "f"]), SIZE, Some(2), first.next.as_deref()).expect("a page");
        assert_eq!((second.items, second.next), (vec!["e".to_owned(), "f".to_owned()], None));
    }

    #[test]
    fn a_token_is_opaque_and_a_foreign_one_is_refused() {
        let first = page(keyed(&["alpha", "beta"]), SIZE, Some(1), None).expect("a page");
        let token = first.next.expect("a token");
        assert!(!token.contains("alpha"), "{token}");
        for bad in ["garbage", "1", "!!!", &URL_SAFE_NO_PAD.encode("alpha")] {
            assert_eq!(page(keyed(&["a"]), SIZE, None, Some(bad)), Err(PageError::Token), "{bad}");
        }
        assert_eq!(page(keyed(&["a"]), SIZE, None, Some("")).map(|p| p.items), Ok(vec!["a".to_owned()]));
    }

    #[test]
    fn a_size_out_of_range_is_refused_in_aws_words() {
        for (limit, constraint) in
            [(0, "greater than or equal to 1"), (-3, "greater than or equal to 1"), (11, "less than or equal to 10")]
        {
            let refused = page(keyed(&["a"]), SIZE, Some(limit), None).expect_err("out of range");
            assert_eq!(
                refused.validation_message("maxItems"),
                format!(
                    "1 validation error detected: Value '{limit}' at 'maxItems' failed to satisfy constraint: Member must have value {constraint}"
                )
            );
        }
        assert_eq!(limit_param(Some("x"), SIZE), Err(PageError::Limit { requested: "x".into(), max: 10 }));
        assert_eq!(limit_param(Some("7"), SIZE), Ok(Some(7)));
    }

    #[test]
    fn composite_and_numeric_keys_sort_part_by_part() {
        assert!(key(&["a", "2"]) < key(&["a-b", "1"]));
        assert!(number(-5) < number(0) && number(0) < number(9) && number(9) < number(10));
        assert!(number(i64::MIN) < number(i64::MAX));
    }
}

/// What the services' pagination tests check of a walk through a listing.
#[cfg(test)]
pub(crate) mod test_support {
    /// Every page holds at most `limit` items, no item comes twice, and every one of `expected` came.
    pub(crate) fn assert_each_once(pages: &[Vec<String>], expected: &[&str], limit: usize) {
        assert!(pages.iter().all(|p| p.len() <= limit), "a page over {limit}: {pages:?}");
        let seen: Vec<&String> = pages.iter().flatten().collect();
        let unique: std::collections::BTreeSet<&String> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "an item came twice: {pages:?}");
        for item in expected {
            assert!(unique.iter().any(|s| s == item), "{item} never came: {pages:?}");
        }
    }
}
