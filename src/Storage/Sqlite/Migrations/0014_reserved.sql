-- Reserved: this number belongs to another feature's migration, merged separately.
SELECT 1;
