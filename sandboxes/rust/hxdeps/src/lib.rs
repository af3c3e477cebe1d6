// Only here to make cargo build the dependencies.
