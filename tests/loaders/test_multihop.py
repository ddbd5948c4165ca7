"""Gold routes and paragraphs read from FlashRAG metadata in every layout the copies use."""

from __future__ import annotations

import json

from smepo_env.loaders import context_paragraphs, gold_hops
from smepo_env.loaders.multihop import unwrap_metadata

LIST_LAYOUT = {
    "type": "compositional",
    "supporting_facts": [["Pulp Fiction", 0], ["Quentin Tarantino", 1]],
    "context": [
        ["Pulp Fiction", ["Pulp Fiction is a film", "directed by Quentin Tarantino."]],
        ["Quentin Tarantino", ["He is a filmmaker.", "He was born in Knoxville."]],
        ["Reservoir Dogs", ["A 1992 film."]],
    ],
    "evidences": [
        ["Pulp Fiction", "director", "Quentin Tarantino"],
        ["Quentin Tarantino", "place of birth", "Knoxville"],
    ],
}
COLUMNAR = {
    "type": "compositional",
    "supporting_facts": {"title": ["Pulp Fiction", "Quentin Tarantino"], "sent_id": [0, 1]},
    "context": {
        "title": ["Pulp Fiction", "Quentin Tarantino", "Reservoir Dogs"],
        "content": [
            ["Pulp Fiction is a film", "directed by Quentin Tarantino."],
            ["He is a filmmaker.", "He was born in Knoxville."],
            ["A 1992 film."],
        ],
    },
    "evidences": {
        "fact": ["Pulp Fiction", "Quentin Tarantino"],
        "relation": ["director", "place of birth"],
        "entity": ["Quentin Tarantino", "Knoxville"],
    },
}


def test_row_and_columnar_layouts_read_the_same():
    question = "Where was the director of film Pulp Fiction born?"
    assert gold_hops("2wikimultihopqa", question, LIST_LAYOUT) == gold_hops(
        "2wikimultihopqa", question, COLUMNAR
    )
    assert context_paragraphs(LIST_LAYOUT) == context_paragraphs(COLUMNAR)
    hops = gold_hops("2wikimultihopqa", question, COLUMNAR)
    assert [(h.query, h.answer, h.kind, h.titles) for h in hops] == [
        ("director of Pulp Fiction", "Quentin Tarantino", "bridge", ("Pulp Fiction",)),
        ("place of birth of Quentin Tarantino", "Knoxville", "answer", ("Quentin Tarantino",)),
    ]
    paragraphs = context_paragraphs(COLUMNAR)
    assert [p.supporting for p in paragraphs] == [True, True, False]
    assert paragraphs[0].text == "Pulp Fiction is a film directed by Quentin Tarantino."


def test_json_text_and_nested_metadata_are_decoded():
    as_text = {"metadata": json.dumps(COLUMNAR)}  # datasets>=5 writes mixed shapes as JSON text
    assert unwrap_metadata(as_text)["evidences"] == COLUMNAR["evidences"]
    fields_as_text = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in COLUMNAR.items()}
    assert unwrap_metadata(fields_as_text) == COLUMNAR
    assert unwrap_metadata(None) == {} and unwrap_metadata("not json") == {}


def test_musique_hops_substitute_earlier_answers_and_find_support_titles():
    metadata = {
        "paragraphs": [
            {
                "idx": 0,
                "title": "Frida Kahlo",
                "paragraph_text": "She married Diego Rivera.",
                "is_supporting": True,
            },
            {
                "idx": 1,
                "title": "Diego Rivera",
                "paragraph_text": "Born in Guanajuato.",
                "is_supporting": True,
            },
            {"idx": 2, "title": "Frida (film)", "paragraph_text": "A 2002 film.", "is_supporting": False},
        ],
        "question_decomposition": [
            {
                "id": 1,
                "question": "Frida Kahlo >> spouse",
                "answer": "Diego Rivera",
                "paragraph_support_idx": 0,
            },
            {"id": 2, "question": "Where was #1 born?", "answer": "Guanajuato", "paragraph_support_idx": 1},
        ],
    }
    hops = gold_hops("musique", "Where was Frida Kahlo's husband born?", metadata)
    assert [(h.query, h.answer, h.titles, h.kind) for h in hops] == [
        ("spouse of Frida Kahlo", "Diego Rivera", ("Frida Kahlo",), "bridge"),
        ("Where was Diego Rivera born?", "Guanajuato", ("Diego Rivera",), "answer"),
    ]
    assert [p.title for p in context_paragraphs(metadata)] == ["Frida Kahlo", "Diego Rivera", "Frida (film)"]
    # FlashRAG's copy keeps no paragraphs: the hops' support paragraphs stand in
    del metadata["paragraphs"]
    metadata["question_decomposition"][0]["support_paragraph"] = {
        "title": "Frida Kahlo",
        "paragraph_text": "x y",
    }
    assert [(p.title, p.supporting) for p in context_paragraphs(metadata)] == [("Frida Kahlo", True)]
    assert gold_hops("musique", "q", metadata)[0].titles == ("Frida Kahlo",)


def test_hotpot_bridge_starts_at_the_title_the_question_names():
    metadata = {
        "type": "bridge",
        "supporting_facts": {"title": ["Shirley Temple", "Kiss and Tell (1945 film)"], "sent_id": [1, 0]},
        "context": {"title": ["Shirley Temple"], "sentences": [["She was a diplomat."]]},
    }
    question = "What position was held by the woman who played Corliss Archer in Kiss and Tell?"
    hops = gold_hops("hotpotqa", question, metadata)
    assert [(h.query, h.answer, h.kind) for h in hops] == [
        ("Kiss and Tell (1945 film)", "Shirley Temple", "bridge"),
        ("Shirley Temple", "", "answer"),
    ]
    metadata["type"] = "comparison"
    assert [h.kind for h in gold_hops("hotpotqa", question, metadata)] == ["value", "value"]


def test_sets_without_a_route_have_none():
    assert gold_hops("nq", "who got the first nobel prize in physics", {}) == []
    assert gold_hops("bamboogle", "q", None) == []
    assert context_paragraphs({}) == []
