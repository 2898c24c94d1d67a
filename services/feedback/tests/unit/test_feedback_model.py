import pytest

from feedback.domain.model import Feedback, InvalidFeedback, average_rating


def submit(rating=5, customer_id=None, comment=None, travellers=("c1",)):
    return Feedback.submit("t", "it-1", rating, customer_id=customer_id, comment=comment, travellers=list(travellers))


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_ratings_run_from_one_to_five(rating):
    with pytest.raises(InvalidFeedback) as error:
        submit(rating)
    assert error.value.code == "invalid-rating"


def test_feedback_in_a_customers_name_must_be_from_someone_on_the_trip():
    assert submit(customer_id="c1").customer_id == "c1"
    with pytest.raises(InvalidFeedback) as error:
        submit(customer_id="stranger")
    assert error.value.code == "customer-not-on-trip"


def test_anonymous_feedback_and_blank_comments():
    feedback = submit(comment="   ")
    assert feedback.customer_id is None and feedback.comment is None


def test_average_rating():
    assert average_rating([]) is None
    assert average_rating([submit(5), submit(4), submit(4)]) == 4.33
