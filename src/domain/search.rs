//! Chinese keyword search without a dictionary. Every problem keeps its words as tokens: each run
//! of Chinese characters gives its overlapping pairs (积存垃圾 → 积存 存垃 垃圾; a lone character
//! stands for itself) and Latin letters and digits give lower-cased words. A search term then needs
//! only the pairs of its own Chinese runs, which every text containing the term also has, so the
//! index narrows the candidates and an exact substring test on those few rows decides.

/// CJK unified ideographs (with extensions A-F and the compatibility block).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

#[derive(PartialEq)]
enum Kind {
    Cjk,
    Word,
    Other,
}

fn kind(c: char) -> Kind {
    if is_cjk(c) {
        Kind::Cjk
    } else if c.is_alphanumeric() {
        Kind::Word
    } else {
        Kind::Other
    }
}

/// Maximal runs of one kind, in order.
fn runs(text: &str) -> Vec<(Kind, Vec<char>)> {
    let mut out: Vec<(Kind, Vec<char>)> = Vec::new();
    for c in text.chars() {
        let k = kind(c);
        match out.last_mut() {
            Some((last, run)) if *last == k => run.push(c),
            _ => out.push((k, vec![c])),
        }
    }
    out.retain(|(k, _)| *k != Kind::Other);
    out
}

fn pairs(run: &[char], out: &mut Vec<String>) {
    for w in run.windows(2) {
        out.push(w.iter().collect());
    }
}

/// The tokens stored for a problem's texts: space-separated, each once.
pub fn index_tokens(texts: &[&str]) -> String {
    let mut tokens = Vec::new();
    for text in texts {
        for (k, run) in runs(text) {
            match k {
                Kind::Cjk if run.len() == 1 => tokens.push(run[0].to_string()),
                Kind::Cjk => pairs(&run, &mut tokens),
                _ => tokens.push(run.iter().collect::<String>().to_lowercase()),
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    tokens.retain(|t| seen.insert(t.clone()));
    tokens.join(" ")
}

/// The search terms of a keyword box: whitespace separates terms that must all match.
pub fn terms(keyword: &str) -> Vec<String> {
    keyword.split_whitespace().map(str::to_string).collect()
}

/// Tokens every matching text must contain, or None when no term has a Chinese run of two or
/// more characters (the index cannot narrow such a search; it falls back to a scan).
pub fn required_tokens(terms: &[String]) -> Option<Vec<String>> {
    let mut tokens = Vec::new();
    for t in terms {
        for (k, run) in runs(t) {
            if k == Kind::Cjk {
                pairs(&run, &mut tokens);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    tokens.retain(|t| seen.insert(t.clone()));
    (!tokens.is_empty()).then_some(tokens)
}

/// A complete problem code (Q + date + sequence), looked up exactly.
pub fn as_problem_code(keyword: &str) -> Option<String> {
    let k = keyword.trim();
    let digits = k.strip_prefix('Q').or_else(|| k.strip_prefix('q'))?;
    (digits.len() >= 12 && digits.chars().all(|c| c.is_ascii_digit())).then(|| format!("Q{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_runs_become_pairs_and_latin_words_stay_whole() {
        assert_eq!(
            index_tokens(&["积存垃圾，井盖缺失", "Q202611220001 人民公园A区"]),
            "积存 存垃 垃圾 井盖 盖缺 缺失 q202611220001 人民 民公 公园 a 区"
        );
        assert_eq!(index_tokens(&["路"]), "路");
        assert_eq!(required_tokens(&terms("垃圾  井盖")), Some(vec!["垃圾".to_string(), "井盖".to_string()]));
        assert_eq!(required_tokens(&terms("井 abc")), None, "nothing the index can narrow");
        assert_eq!(as_problem_code(" q202611220001 ").as_deref(), Some("Q202611220001"));
        assert_eq!(as_problem_code("Q2026"), None);
    }

    proptest! {
        /// Whatever substring a user types, the tokens it requires are among the text's tokens, so
        /// the index never hides a match.
        #[test]
        fn a_substring_requires_only_tokens_the_text_has(
            text in "[垃圾井盖缺失路面破损人民公园，A-Za-z0-9 ]{1,40}",
            start in 0usize..40,
            len in 1usize..12,
        ) {
            let chars: Vec<char> = text.chars().collect();
            let start = start.min(chars.len() - 1);
            let end = (start + len).min(chars.len());
            let term: String = chars[start..end].iter().collect();
            let stored: std::collections::HashSet<String> =
                index_tokens(&[&text]).split(' ').map(str::to_string).collect();
            if let Some(req) = required_tokens(&terms(&term)) {
                for t in req {
                    prop_assert!(stored.contains(&t), "{t} missing for {term:?} in {text:?}");
                }
            }
        }
    }
}
