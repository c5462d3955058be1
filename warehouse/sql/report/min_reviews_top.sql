-- The minimum number of explicit scores for a film to enter top lists (a mart parameter).
select mart_param('min_reviews_top')::integer as min_reviews_top
