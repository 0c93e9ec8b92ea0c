//! Chinese keyword search without a dictionary. Every problem keeps its words as tokens: each run
//! of Chinese characters gives its overlapping pairs (积存垃圾 → 积存 存垃 垃圾; a lone character
//! stands for itself) and Latin letters and digits give lower-cased words. A search term then needs
//! only the pairs of its own Chinese runs and the words it holds whole (between two of its own
//! characters), which every text containing the term also has, so the index narrows the candidates
//! and an exact substring test on those few rows decides.

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

/// Maximal runs of one kind, in order, each with whether it is bounded: other characters of the
/// same text stand right before and right after it (runs are maximal, so those are of another
/// kind and the run is whole in any longer text that contains this one).
fn bounded_runs(text: &str) -> Vec<(Kind, Vec<char>, bool)> {
    let mut all: Vec<(Kind, Vec<char>)> = Vec::new();
    for c in text.chars() {
        let k = kind(c);
        match all.last_mut() {
            Some((last, run)) if *last == k => run.push(c),
            _ => all.push((k, vec![c])),
        }
    }
    let n = all.len();
    all.into_iter()
        .enumerate()
        .filter(|(_, (k, _))| *k != Kind::Other)
        .map(|(i, (k, run))| (k, run, i > 0 && i + 1 < n))
        .collect()
}

/// Maximal runs of one kind, in order.
fn runs(text: &str) -> Vec<(Kind, Vec<char>)> {
    bounded_runs(text).into_iter().map(|(k, run, _)| (k, run)).collect()
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

/// Tokens every matching text must contain, or None when the index cannot narrow the search
/// (it then falls back to a scan). A Chinese run of two or more characters gives its pairs. A run
/// with characters of the term on both sides is whole in every text containing the term, so a
/// bounded Latin or digit word (4321987 in 第4321987号) and a bounded lone Chinese character (区 in
/// A区3) are tokens too; an unbounded one may be part of a longer word in the text.
pub fn required_tokens(terms: &[String]) -> Option<Vec<String>> {
    let mut tokens = Vec::new();
    for t in terms {
        for (k, run, bounded) in bounded_runs(t) {
            match k {
                Kind::Cjk if run.len() >= 2 => pairs(&run, &mut tokens),
                Kind::Cjk if bounded => tokens.push(run[0].to_string()),
                Kind::Word if bounded => tokens.push(run.iter().collect::<String>().to_lowercase()),
                _ => {}
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
        assert_eq!(
            required_tokens(&terms("第4321987号")),
            Some(vec!["4321987".to_string()]),
            "a number quoted between characters is a whole word"
        );
        assert_eq!(required_tokens(&terms("4321987号")), None, "it may end a longer number");
        assert_eq!(required_tokens(&terms("第4321987")), None, "it may begin a longer number");
        assert_eq!(required_tokens(&terms("A区B7")), Some(vec!["区".to_string()]));
        assert_eq!(required_tokens(&terms("A区B7路")), Some(vec!["区".to_string(), "b7".to_string()]));
        assert_eq!(
            required_tokens(&terms("（第12号）")),
            Some(vec!["第".to_string(), "12".to_string(), "号".to_string()])
        );
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
