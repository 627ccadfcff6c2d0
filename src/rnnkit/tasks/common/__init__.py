"""Helpers that several tasks share: text inputs (:mod:`.texts`), class labels
(:mod:`.labels`), classification metrics (:mod:`.metrics`) and report (:mod:`.report`),
and next-token sampling (:mod:`.sampling`)."""
