"""Staff as WeCom knows them (企业成员): members and departments mirrored from each corp."""
