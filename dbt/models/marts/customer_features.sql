-- Model features per customer as of the as_of var (point in time): the features a model scores.
{{ customer_features('(select ' ~ as_of() ~ ' as as_of)') }}
