-- Local stack only: the least-privileged role the apps connect as (the migrations grant it its
-- rights; they create it without a password when it is missing, as on a developer's machine).
CREATE ROLE tally_app LOGIN PASSWORD 'tally-app-dev-password';
