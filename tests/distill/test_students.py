"""Student architectures: shapes, pretrained initialisation, padding never changes a prediction."""

import numpy as np
import pytest
import torch

from text_distill.distill.students.bilstm import BiLSTMClassifier
from text_distill.distill.students.ngram import BagOfNgramsClassifier
from text_distill.distill.students.textcnn import TextCNNClassifier

STUDENTS = {
    "bilstm": lambda **kw: BiLSTMClassifier(hidden_size=8, **kw),
    "textcnn": lambda **kw: TextCNNClassifier(kernel_sizes=(2, 3), filters=4, **kw),
    "ngram": lambda **kw: BagOfNgramsClassifier(hidden_size=5, **kw),
}


@pytest.fixture(params=sorted(STUDENTS))
def student(request):
    torch.manual_seed(0)
    return STUDENTS[request.param](vocab_size=20, num_labels=3, embedding_dim=6).eval()


def test_logits_shape_and_padding_invariance(student):
    ids = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    lengths = torch.tensor([3, 5])
    logits = student(ids, lengths)
    assert logits.shape == (2, 3)
    alone = student(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    torch.testing.assert_close(logits[0], alone[0])


def test_texts_shorter_than_a_kernel_still_classify(student):
    logits = student(torch.tensor([[4]]), torch.tensor([1]))
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", sorted(STUDENTS))
def test_pretrained_rows_are_copied_and_can_be_frozen(name):
    vectors = np.arange(20 * 6, dtype=np.float32).reshape(20, 6)
    model = STUDENTS[name](
        vocab_size=20, num_labels=3, embedding_dim=6, embeddings=vectors, freeze_embeddings=True
    )
    np.testing.assert_array_equal(model.embedding.weight.detach().numpy(), vectors)
    assert not model.embedding.weight.requires_grad
    with pytest.raises(ValueError, match="embeddings are"):
        STUDENTS[name](vocab_size=21, num_labels=3, embedding_dim=6, embeddings=vectors)


def test_bag_of_ngrams_is_a_linear_head_on_the_mean_feature_embedding():
    torch.manual_seed(0)
    model = BagOfNgramsClassifier(vocab_size=10, num_labels=2, embedding_dim=3).eval()
    ids, lengths = torch.tensor([[2, 3, 3, 0], [4, 0, 0, 0]]), torch.tensor([3, 1])
    table, head = model.embedding.weight, model.classifier[-1]
    expected = head(torch.stack([table[[2, 3, 3]].mean(0), table[4]]))
    torch.testing.assert_close(model(ids, lengths), expected)  # a repeated feature counts twice
    assert [type(layer) for layer in model.classifier] == [torch.nn.Linear]  # fastText: no hidden layer
    model.train()
    model(ids, lengths).sum().backward()
    assert model.embedding.weight.grad[0].abs().sum() == 0  # padding learns nothing
