passwd last kaas
group last kaas
