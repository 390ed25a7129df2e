"""One builder per lemma or theorem of the paper; each emits explicit weights and the exact counts it promises."""
