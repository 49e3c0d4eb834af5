"""Decision support: knowledge base, recommender (Scenario → Plan) and dose physics."""
